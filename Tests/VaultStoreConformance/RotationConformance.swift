import VaultCore
import VaultStore

/// Key rotation's store operations: its bookkeeping, counts by key version, the scan of sealed
/// values in record order, and index entries added beside old ones and
/// dropped below a version in one batch.
enum RotationConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "rotations: come back in id order as stored and updated; ids are never reused", run: bookkeeping),
        .init(name: "rotations: values and index entries are counted by key version, also below a version per field", run: counts),
        .init(name: "rotations: sealed values scan in whole records in order after a cursor, each entity apart", run: scan),
        .init(name: "rotations: index entries are added beside old ones, a held unique digest names its holder, and entries below a version drop",
              run: indexEntries),
    ]

    static func bookkeeping(_ store: any VaultStore) async throws {
        try requireEqual(try await store.read { tx in try tx.nextRotationID() }, 1, "the first rotation id")
        let first = StoredRotation(id: 1, fields: "customers.email,customers.phone", startedBy: "admin", startedAt: "2026-12-01T00:00:00Z",
                                   finishedAt: nil, tag: KeyStoreConformance.bytes(1, 32))
        let second = StoredRotation(id: 2, fields: "customers.name", startedBy: "keys", startedAt: "2026-12-02T00:00:00Z", finishedAt: nil, tag: nil)
        try await store.write { tx in
            try tx.insertRotation(second)
            try tx.insertRotation(first)
        }
        var finished = first
        finished.finishedAt = "2026-12-01T03:00:00Z"
        finished.tag = KeyStoreConformance.bytes(2, 32)
        let updated = finished
        try await store.write { tx in try tx.updateRotation(updated) }
        try requireEqual(try await store.read { tx in try tx.rotations() }, [updated, second], "rotations in id order after an update")
        var refused = false
        do { try await store.write { tx in try tx.insertRotation(first) } } catch { refused = true }
        try require(refused, "rotation 1 was stored twice")
        try require(try await store.read { tx in try tx.nextRotationID() } > 2, "the next rotation id reuses one")
    }

    static func entry(_ field: String, _ version: Int64, _ seed: Int) -> SealedEntry {
        SealedEntry(field: field, keyVersion: version, sealed: KeyStoreConformance.bytes(seed, 40), masked: field == "phone" ? KeyStoreConformance.bytes(seed + 1, 30) : nil)
    }

    /// Customers 1…4 with email and phone under versions 1 and 2, one transaction's summary.
    static func seed(_ store: any VaultStore) async throws {
        try await store.write { tx in
            for id: Int64 in 1...4 {
                try tx.insert(RecordConformance.customer(id))
                try tx.writeSealedEntries([entry("email", id <= 3 ? 1 : 2, Int(id)), entry("phone", id == 1 ? 1 : 2, Int(id) + 10)],
                                          entity: .customers, recordID: id)
            }
            try tx.insert(RecordConformance.historyRow(.transactions, 9, owner: 1))
            try tx.writeSealedEntries([entry("email", 1, 99)], entity: .transactions, recordID: 9)
        }
    }

    static func counts(_ store: any VaultStore) async throws {
        try await seed(store)
        try await store.write { tx in
            for (id, version) in [(Int64(1), UInt32(1)), (2, 1), (2, 2), (3, 2)] {
                try tx.insertIndexEntry(field: "email", unique: true, version: version, digest: KeyStoreConformance.bytes(Int(id) * 10 + Int(version), 16),
                                        customerID: id)
            }
            try tx.insertIndexEntry(field: "name", unique: false, version: 1, digest: [1, 2], customerID: 1)
        }
        let (email, phone, history, uniqueCounts, blind, below, none) = try await store.read { tx in
            (try tx.sealedValueCounts(.customers, field: "email"), try tx.sealedValueCounts(.customers, field: "phone"),
             try tx.sealedValueCounts(.transactions, field: "email"), try tx.indexEntryCounts(field: "email", unique: true),
             try tx.indexEntryCounts(field: "name", unique: false), try tx.sealedValueCountsBelow(.customers, versions: ["email": 2, "phone": 2]),
             try tx.sealedValueCountsBelow(.customers, versions: ["email": 1, "phone": 1]))
        }
        try requireEqual(email, [1: 3, 2: 1], "customers' email values by version")
        try requireEqual(phone, [1: 1, 2: 3], "customers' phone values by version")
        try requireEqual(history, [1: 1], "transactions' values, apart from customers'")
        try requireEqual(uniqueCounts, [1: 2, 2: 2], "email index entries by version")
        try requireEqual(blind, [1: 1], "name index entries by version")
        try requireEqual(below, ["email": 3, "phone": 1], "values below version 2")
        try requireEqual(none, [:], "values below version 1 (fields with none are absent)")
    }

    static func scan(_ store: any VaultStore) async throws {
        try await seed(store)
        let (all, afterTwo, limited) = try await store.read { tx in
            (try tx.sealedEntries(.customers, after: 0, limit: 100), try tx.sealedEntries(.customers, after: 2, limit: 100),
             try tx.sealedEntries(.customers, after: 0, limit: 3))
        }
        try requireEqual(all.map(\.recordID), [1, 1, 2, 2, 3, 3, 4, 4], "records of the scan, in order")
        try requireEqual(all.filter { $0.recordID == 1 }.map(\.entry).sorted { $0.field < $1.field }, [entry("email", 1, 1), entry("phone", 1, 11)],
                         "customer 1's values, exactly")
        try requireEqual(afterTwo.map(\.recordID), [3, 3, 4, 4], "the scan after customer 2")
        try requireEqual(limited.map(\.recordID), [1, 1, 2, 2], "at least three values, whole records")
        let transaction = try await store.read { tx in try tx.sealedEntries(.transactions, recordID: 9) }
        try requireEqual(transaction, [entry("email", 1, 99)], "the transaction's value of the same field name")
    }

    static func indexEntries(_ store: any VaultStore) async throws {
        let bytes = KeyStoreConformance.bytes
        try await store.write { tx in
            for id: Int64 in 1...3 { try tx.insert(RecordConformance.customer(id)) }
            try tx.insertIndexEntry(field: "email", unique: true, version: 1, digest: bytes(1, 16), customerID: 1)
            try tx.insertIndexEntry(field: "name", unique: false, version: 1, digest: bytes(5, 4), customerID: 1)
        }
        let results = try await store.write { tx in
            [try tx.addIndexEntry(field: "email", unique: true, version: 2, digest: bytes(2, 16), customerID: 1),
             try tx.addIndexEntry(field: "email", unique: true, version: 2, digest: bytes(2, 16), customerID: 1),
             try tx.addIndexEntry(field: "email", unique: true, version: 2, digest: bytes(2, 16), customerID: 2),
             try tx.addIndexEntry(field: "name", unique: false, version: 2, digest: bytes(5, 4), customerID: 1),
             try tx.addIndexEntry(field: "name", unique: false, version: 2, digest: bytes(5, 4), customerID: 2),
             try tx.addIndexEntry(field: "name", unique: false, version: 2, digest: bytes(5, 4), customerID: 2)]
        }
        try requireEqual(results, [nil, nil, 1, nil, nil, nil], "holders named by each addition (the same entry twice is no conflict)")
        let (emailV2, nameV2, emailV1) = try await store.read { tx in
            (try tx.indexHolders(field: "email", unique: true, version: 2, digest: bytes(2, 16)),
             try tx.indexHolders(field: "name", unique: false, version: 2, digest: bytes(5, 4)).sorted(),
             try tx.indexHolders(field: "email", unique: true, version: 1, digest: bytes(1, 16)))
        }
        try requireEqual(emailV2, [1], "the new email entry")
        try requireEqual(nameV2, [1, 2], "the new name entries (each once)")
        try requireEqual(emailV1, [1], "the old email entry, beside the new one")
        try await store.write { tx in
            try tx.removeIndexEntries(below: [IndexVersionFloor(field: "email", unique: true, version: 2),
                                              IndexVersionFloor(field: "name", unique: false, version: 2)])
        }
        let (email, name) = try await store.read { tx in
            (try tx.indexEntryCounts(field: "email", unique: true), try tx.indexEntryCounts(field: "name", unique: false))
        }
        try requireEqual(email, [2: 1], "email entries after dropping those below version 2")
        try requireEqual(name, [2: 2], "name entries after dropping those below version 2")
        try requireEqual(try await store.read { tx in try tx.indexHolders(field: "name", unique: false, version: 2, digest: bytes(5, 4)).sorted() },
                         [1, 2], "lookups after the batch")
    }
}
