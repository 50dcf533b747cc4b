import Foundation
import VaultCore
import VaultStore

/// What the services ask of a store beyond one aggregate: scans an integrity check and an export
/// page through, savepoints, the store's check of itself, snapshots, and the operations of the
/// one-time upgrade of vaults made before record integrity tags.
enum StoreServicesConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "scans: every index entry of an index, history owners and behaviour owners page in order, consent owners, session ids",
              run: scans),
        .init(name: "savepoints: a failed savepoint undoes only its own changes, the transaction goes on", run: savepoints),
        .init(name: "integrity: a fresh store passes its own check; a value of a record that does not exist is named", run: integrity),
        .init(name: "snapshot: a copy is written to a new file while the store stays usable; checkpoint keeps every commit", run: snapshot),
        .init(name: "legacy: current-format rows are recognised; first-format grants, sessions of a field, attestations and consent tags are written",
              run: legacy),
    ]

    static func scans(_ store: any VaultStore) async throws {
        let bytes = KeyStoreConformance.bytes
        let writer = try await store.write { tx in try tx.insertPrincipal(KeyStoreConformance.principal("writer", seed: 1)) }
        try await store.write { tx in
            for id: Int64 in 1...4 { try tx.insert(RecordConformance.customer(id)) }
            for (id, owner) in [(Int64(10), Int64(2)), (11, 1), (12, 2), (13, 4)] { try tx.insert(RecordConformance.historyRow(.transactions, id, owner: owner)) }
            try tx.insert(RecordConformance.historyRow(.interactions, 20, owner: 3))
            for id: Int64 in [4, 1, 3] {
                try tx.writeBehaviour(StoredBehaviour(customerID: id, browse: id, purchase: 0, review: 0, updatedAt: "2026-12-01T00:00:00Z", tag: nil))
            }
            try tx.insertIndexEntry(field: "email", unique: true, version: 1, digest: bytes(1, 16), customerID: 1)
            try tx.insertIndexEntry(field: "phone", unique: true, version: 2, digest: bytes(2, 16), customerID: 2)
            try tx.insertIndexEntry(field: "name", unique: false, version: 1, digest: bytes(3, 4), customerID: 1)
            try tx.insertIndexEntry(field: "name", unique: false, version: 1, digest: bytes(3, 4), customerID: 3)
            for (id, customer) in [(Int64(1), Int64(3)), (2, 1), (3, 3)] {
                try tx.insertConsentEvent(StoredConsentEvent(id: id, customerID: customer, consent: "marketing_consent", granted: true,
                                                             at: "2026-12-01T00:00:00Z", tag: nil))
            }
            for id: Int64 in [3, 1] { try tx.insertWriteSession(WriteSessionConformance.session(id, principal: writer)) }
        }
        let found = try await store.read { tx in
            var unique: [String] = [], blind: [String] = []
            try tx.forEachIndexEntry(unique: true) { field, version, digest, customer in unique.append("\(field)/\(version)/\(digest.count)/\(customer)") }
            try tx.forEachIndexEntry(unique: false) { field, version, _, customer in blind.append("\(field)/\(version)/\(customer)") }
            return (unique.sorted(), blind.sorted(), try tx.historyOwners(.transactions, after: 0, limit: 3).map { [$0.id, $0.customerID] },
                    try tx.historyOwners(.transactions, after: 11, limit: 10).map { [$0.id, $0.customerID] },
                    try tx.historyOwners(.interactions, after: 0, limit: 10).map { [$0.id, $0.customerID] },
                    try tx.behaviourOwners(after: 0, limit: 2), try tx.behaviourOwners(after: 1, limit: 10),
                    try tx.consentCustomerIDs(), try tx.writeSessionIDs())
        }
        try requireEqual(found.0, ["email/1/16/1", "phone/2/16/2"], "the unique index's entries")
        try requireEqual(found.1, ["name/1/1", "name/1/3"], "the blind index's entries")
        try requireEqual(found.2, [[10, 2], [11, 1], [12, 2]], "the first page of transaction owners")
        try requireEqual(found.3, [[12, 2], [13, 4]], "transaction owners after 11")
        try requireEqual(found.4, [[20, 3]], "interaction owners, apart from transactions")
        try requireEqual(found.5, [1, 3], "the first page of behaviour owners")
        try requireEqual(found.6, [3, 4], "behaviour owners after 1")
        try requireEqual(found.7, [1, 3], "customers with consent events, each once, in order")
        try requireEqual(found.8, [1, 3], "write session ids in order")
    }

    struct Planned: Error {}

    static func savepoints(_ store: any VaultStore) async throws {
        try await store.write { tx in
            try tx.insert(RecordConformance.customer(1))
            do {
                try tx.savepoint {
                    try tx.insert(RecordConformance.customer(2))
                    throw Planned()
                }
            } catch is Planned {}
            try tx.savepoint { try tx.insert(RecordConformance.customer(3)) }
            try tx.insert(RecordConformance.customer(4))
        }
        try requireEqual(try await RecordConformance.allCustomers(store).map(\.id), [1, 3, 4], "customers after one failed and one kept savepoint")
    }

    static func integrity(_ store: any VaultStore) async throws {
        try await store.read { tx in try tx.checkStructure() }
        try requireEqual(try await store.read { tx in try tx.orphanSealedValue()?.recordID }, nil, "an orphan in an empty store")
        try await store.write { tx in
            try tx.insert(RecordConformance.customer(1))
            try tx.writeSealedEntries([RotationConformance.entry("email", 1, 1)], entity: .customers, recordID: 1)
        }
        try requireEqual(try await store.read { tx in try tx.orphanSealedValue()?.recordID }, nil, "an orphan when every value has its record")
        // A store may refuse values of a record it does not hold; one that keeps them names them.
        let kept = (try? await store.write { tx in
            try tx.writeSealedEntries([RotationConformance.entry("email", 1, 2)], entity: .transactions, recordID: 77)
        }) != nil
        if kept {
            let orphan = try await store.read { tx in try tx.orphanSealedValue() }
            try requireEqual(orphan?.entity, "transactions", "the orphan's entity")
            try requireEqual(orphan?.recordID, 77, "the orphan's record")
        }
    }

    static func snapshot(_ store: any VaultStore) async throws {
        try await store.write { tx in try tx.insert(RecordConformance.customer(1)) }
        let path = NSTemporaryDirectory() + "conformance-snapshot-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await store.snapshot(to: path)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        try require(size > 0, "the snapshot file is empty")
        try await store.write { tx in try tx.insert(RecordConformance.customer(2)) }
        try await store.checkpoint()
        try requireEqual(try await RecordConformance.allCustomers(store).map(\.id), [1, 2], "customers after a snapshot and a checkpoint")
    }

    static func legacy(_ store: any VaultStore) async throws {
        try require(!(try await store.read { tx in try tx.holdsCurrentFormatRows() }), "an empty store holds current-format rows")
        let untagged = RecordConformance.customer(3)  // stored without a tag
        let (principal, key) = try await store.write { tx in
            try tx.insert(untagged)
            return (try tx.insertPrincipal(KeyStoreConformance.principal("old", seed: 4)),
                    try tx.insertDataKey(scope: KeyScope(field: "customers.email", purpose: .seal, version: 1), publicKey: nil, createdAt: "2026-01-01T00:00:00Z"))
        }
        let scope = KeyScope(field: "customers.email", purpose: .seal, version: 1)
        try await store.write { tx in
            try tx.insertGrant(KeyGrant(scope: scope, sealedKey: KeyStoreConformance.bytes(1, 80), signature: KeyStoreConformance.bytes(2, 64), format: 1),
                               principalID: principal, keyID: key)
            for (id, field) in [(Int64(1), KeyScope.vaultWide), (2, "customers.email"), (3, KeyScope.vaultWide)] {
                try tx.insertWriteSession(WriteSessionConformance.session(id, principal: principal, field: field, format: 1))
            }
            try tx.insertConsentEvent(StoredConsentEvent(id: 1, customerID: 3, consent: "marketing_consent", granted: true, at: "2026-01-01T00:00:00Z", tag: nil))
            try tx.insertErasure(StoredErasure(customerID: 3, erasedAt: "2026-01-02T00:00:00Z", principal: "old", purpose: nil, transactions: "kept",
                                               removed: "{}", auditSeq: nil, signedBy: nil, signature: nil, signerProof: nil))
        }
        try await store.write { tx in
            try tx.deleteFirstFormatGrants()
            try tx.deleteWriteSessions(field: KeyScope.vaultWide)
            try tx.setConsentEventTag(id: 1, tag: [9, 9])
            try tx.updateErasureAttestation(StoredErasure(customerID: 3, erasedAt: "2026-01-02T00:00:00Z", principal: "old", purpose: nil,
                                                          transactions: "kept", removed: "{}", auditSeq: 5, signedBy: "admin",
                                                          signature: KeyStoreConformance.bytes(3, 64), signerProof: #"{"p":1}"#))
        }
        let (grants, sessions, consent, erasure) = try await store.read { tx in
            (try tx.grants(principalID: principal, includingRetired: true), try tx.writeSessions(principalID: principal).map(\.id),
             try tx.consentEvents(customerID: 3).map(\.tag), try tx.erasures().first)
        }
        try requireEqual(grants.count, 0, "first-format grants left")
        try requireEqual(sessions, [2], "write sessions left after deleting the vault-wide ones")
        try requireEqual(consent, [[9, 9]], "the consent event's tag")
        try requireEqual(erasure?.auditSeq, 5, "the attested erasure's audit entry")
        try requireEqual(erasure?.signature, KeyStoreConformance.bytes(3, 64), "the attested erasure's signature")
        try requireEqual(erasure?.erasedAt, "2026-01-02T00:00:00Z", "the attested erasure keeps what it recorded")
        try require(try await store.read { tx in try tx.holdsCurrentFormatRows() }, "a store with a signed erasure and a tagged consent event "
            + "does not hold current-format rows")
    }
}
