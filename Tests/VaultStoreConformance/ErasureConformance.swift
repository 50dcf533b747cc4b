import VaultCore
import VaultStore

/// The erasure ledger and the removals an erasure makes: rows come back as stored, one per
/// customer; each removal takes exactly one customer's data and reports how much.
enum ErasureConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "erasures: ledger rows come back in order as stored, one per customer", run: ledger),
        .init(name: "erasures: each removal takes one customer's data of its kind and counts it", run: removals),
    ]

    static func ledger(_ store: any VaultStore) async throws {
        let rows = [StoredErasure(customerID: 4, erasedAt: "2026-12-01T00:00:00Z", principal: "dpo", purpose: "erasure request", transactions: "kept",
                                  removed: #"{"sealed_values":3}"#, auditSeq: 17, signedBy: "dpo", signature: KeyStoreConformance.bytes(1, 64),
                                  signerProof: #"{"k":"v"}"#),
                    StoredErasure(customerID: 2, erasedAt: "2026-12-02T00:00:00Z", principal: "admin", purpose: nil, transactions: "removed",
                                  removed: "{}", auditSeq: nil, signedBy: nil, signature: nil, signerProof: nil)]
        try await store.write { tx in for row in rows { try tx.insertErasure(row) } }
        try requireEqual(try await store.read { tx in try tx.erasures() }, rows, "ledger rows in the order stored")
        var refused = false
        do { try await store.write { tx in try tx.insertErasure(rows[1]) } } catch { refused = true }
        try require(refused, "a second ledger row for customer 2 was stored")
    }

    static func removals(_ store: any VaultStore) async throws {
        let bytes = KeyStoreConformance.bytes
        try await store.write { tx in
            for id: Int64 in [1, 2] {
                var row = RecordConformance.customer(id)
                row.indexDigests["name"] = IndexDigests.Entry(version: 1, digest: bytes(50, 4))
                try tx.insert(row)
                try tx.writeSealedEntries([SealedEntry(field: "email", keyVersion: 1, sealed: bytes(Int(id), 30), masked: nil),
                                           SealedEntry(field: "phone", keyVersion: 1, sealed: bytes(Int(id), 30), masked: nil)], entity: .customers, recordID: id)
                try tx.insertIndexEntry(field: "email", unique: true, version: 1, digest: bytes(Int(id), 16), customerID: id)
                try tx.insertIndexEntry(field: "name", unique: false, version: 1, digest: bytes(50, 4), customerID: id)
                for n: Int64 in 0..<3 {
                    try tx.insert(RecordConformance.historyRow(.interactions, id * 10 + n, owner: id))
                    try tx.writeSealedEntries([SealedEntry(field: "summary", keyVersion: 1, sealed: bytes(Int(n), 20), masked: nil)],
                                              entity: .interactions, recordID: id * 10 + n)
                }
                try tx.writeBehaviour(StoredBehaviour(customerID: id, browse: 1, purchase: 0, review: 0, updatedAt: "2026-12-01T00:00:00Z", tag: nil))
                try tx.insertConsentEvent(StoredConsentEvent(id: id, customerID: id, consent: "marketing_consent", granted: true,
                                                             at: "2026-12-01T00:00:00Z", tag: nil))
            }
        }
        let counts = try await store.write { tx in
            [try tx.deleteSealedEntries(.customers, recordID: 1), try tx.deleteIndexEntries(customerID: 1),
             try tx.deleteHistoryRows(.interactions, customerID: 1), try tx.deleteBehaviour(customerID: 1), try tx.deleteConsentEvents(customerID: 1),
             try tx.deleteBehaviour(customerID: 1)]
        }
        try requireEqual(counts, [2, 2, 3, 1, 1, 0], "counts of the removals (the last one repeated: nothing left)")
        let (one, two) = try await store.read { tx in
            ([try tx.sealedEntries(.customers, recordID: 1).count, try tx.historyRows(.interactions, customerID: 1).count,
              try tx.sealedEntries(.interactions, recordID: 10).count, try tx.behaviour(customerID: 1) == nil ? 0 : 1,
              try tx.consentEvents(customerID: 1).count, try tx.indexHolders(field: "name", unique: false, version: 1, digest: bytes(50, 4)).count],
             [try tx.sealedEntries(.customers, recordID: 2).count, try tx.historyRows(.interactions, customerID: 2).count,
              try tx.sealedEntries(.interactions, recordID: 20).count, try tx.behaviour(customerID: 2) == nil ? 0 : 1,
              try tx.consentEvents(customerID: 2).count, try tx.indexHolders(field: "email", unique: true, version: 1, digest: bytes(2, 16)).count])
        }
        try requireEqual(one, [0, 0, 0, 0, 0, 1], "customer 1 after the removals (customer 2's name entry is the one left)")
        try requireEqual(two, [2, 3, 1, 1, 1, 1], "customer 2, untouched")
        try require(try await store.read { tx in try tx.customerRow(id: 1) } != nil, "the removals deleted customer 1's row, which an erasure keeps")
    }
}
