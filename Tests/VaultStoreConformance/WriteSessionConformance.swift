import VaultCore
import VaultStore

/// Write sessions: every field comes back as stored; signatures change only where asked; ids are
/// never reused, even after deletion; deleting by key version leaves the current ones.
enum WriteSessionConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "write sessions: come back as stored, by id and by principal in id order", run: roundTrip),
        .init(name: "write sessions: re-signing and countersigning change only that session", run: signatures),
        .init(name: "write sessions: deleting older key versions keeps the rest, and an id is never reused", run: deletion),
    ]

    static func session(_ id: Int64, principal: Int64, field: String = "customers.email", purpose: KeyPurpose = .seal, version: UInt32 = 1,
                        format: Int64 = 2) -> StoredWriteSession {
        StoredWriteSession(id: id, principalID: principal, field: field, purpose: purpose, keyVersion: version,
                           sealedKey: KeyStoreConformance.bytes(Int(id), 80), signature: KeyStoreConformance.bytes(Int(id) + 1, 64), format: format,
                           policyHash: format == 2 ? "ff\(id)" : nil, rootSignature: nil, createdAt: "2026-12-01T00:00:0\(id % 10)Z")
    }

    /// Two principals to own sessions (stores may check the reference).
    static func owners(_ store: any VaultStore) async throws -> (Int64, Int64) {
        try await store.write { tx in
            (try tx.insertPrincipal(KeyStoreConformance.principal("writer", seed: 1)), try tx.insertPrincipal(KeyStoreConformance.principal("other", seed: 2)))
        }
    }

    static func roundTrip(_ store: any VaultStore) async throws {
        let (writer, other) = try await owners(store)
        let sessions = try await store.write { tx in
            var made: [StoredWriteSession] = []
            for spec in [(writer, "customers.email", KeyPurpose.seal, UInt32(1), Int64(2)), (other, "customers.phone", .mask, 3, 2),
                         (writer, "customers.address", .mask, 2, 1)] {
                let next = session(try tx.nextWriteSessionID(), principal: spec.0, field: spec.1, purpose: spec.2, version: spec.3, format: spec.4)
                try tx.insertWriteSession(next)
                made.append(next)
            }
            return made
        }
        try require(Set(sessions.map(\.id)).count == 3, "ids from nextWriteSessionID are not distinct: \(sessions.map(\.id))")
        let (byID, mine, theirs, none) = try await store.read { tx in
            (try sessions.map { try tx.writeSession(id: $0.id) }, try tx.writeSessions(principalID: writer), try tx.writeSessions(principalID: other),
             try tx.writeSession(id: (sessions.map(\.id).max() ?? 0) + 10))
        }
        try requireEqual(byID, sessions.map { Optional($0) }, "sessions by id")
        try requireEqual(mine, [sessions[0], sessions[2]], "the writer's sessions in id order")
        try requireEqual(theirs, [sessions[1]], "the other principal's sessions")
        try requireEqual(none, nil, "a session never stored")
    }

    static func signatures(_ store: any VaultStore) async throws {
        let (writer, _) = try await owners(store)
        try await store.write { tx in for id in 1...3 { try tx.insertWriteSession(session(Int64(id), principal: writer)) } }
        try await store.write { tx in
            try tx.setWriteSessionSignature(id: 2, signature: KeyStoreConformance.bytes(90, 64))
            try tx.setWriteSessionRootSignature(id: 3, signature: KeyStoreConformance.bytes(91, 64))
        }
        var expected = (1...3).map { session(Int64($0), principal: writer) }
        expected[1].signature = KeyStoreConformance.bytes(90, 64)
        expected[2].rootSignature = KeyStoreConformance.bytes(91, 64)
        try requireEqual(try await store.read { tx in try tx.writeSessions(principalID: writer) }, expected, "sessions after signing")
    }

    static func deletion(_ store: any VaultStore) async throws {
        let (writer, _) = try await owners(store)
        try await store.write { tx in
            for (id, field, version) in [(Int64(1), "customers.email", UInt32(1)), (2, "customers.email", 2), (3, "customers.phone", 1), (4, "customers.email", 3)] {
                try tx.insertWriteSession(session(id, principal: writer, field: field, version: version))
            }
        }
        try await store.write { tx in try tx.deleteWriteSessions(field: "customers.email", below: 3) }
        let (left, next) = try await store.read { tx in (try tx.writeSessions(principalID: writer).map(\.id), try tx.nextWriteSessionID()) }
        try requireEqual(left, [3, 4], "sessions left")
        try require(next > 4, "the next id \(next) reuses one already used")
        try await store.write { tx in try tx.deleteWriteSessions(field: "customers.email", below: 10) }
        let after = try await store.read { tx in try tx.nextWriteSessionID() }
        try require(after > 4, "after deleting the newest session, the next id \(after) reuses its id")
    }
}
