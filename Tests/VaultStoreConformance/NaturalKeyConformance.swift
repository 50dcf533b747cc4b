import VaultCore
import VaultStore

/// Natural-key entries: found by exact value, one holder per value of a field, deleted by record.
enum NaturalKeyConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "natural keys: an entry is found by its exact value, and each value of a field has one holder", run: entries),
    ]

    static func entries(_ store: any VaultStore) async throws {
        let entries = [NaturalKeyEntry(entity: .transactions, field: "order_id", value: "A-1", recordID: 1),
                       NaturalKeyEntry(entity: .transactions, field: "order_id", value: "a-1", recordID: 2),
                       NaturalKeyEntry(entity: .transactions, field: "order_id", value: "A-1 ", recordID: 3),
                       NaturalKeyEntry(entity: .interactions, field: "order_id", value: "A-1", recordID: 1)]
        try await store.write { tx in for entry in entries { try tx.insertNaturalKey(entry) } }
        let found = try await store.read { tx in
            (try tx.naturalKeyHolder(.transactions, field: "order_id", value: "A-1"), try tx.naturalKeyHolder(.transactions, field: "order_id", value: "a-1"),
             try tx.naturalKeyHolder(.transactions, field: "order_id", value: "A-%"), try tx.naturalKeyHolder(.interactions, field: "order_id", value: "A-1"),
             try tx.naturalKeyHolder(.transactions, field: "other", value: "A-1"))
        }
        try require(found == (1, 2, nil, 1, nil), "holders found: \(found)")
        try requireEqual(Set(try await store.read { tx in try tx.naturalKeyEntries() }), Set(entries), "every entry")
        var refused = false
        do {
            try await store.write { tx in try tx.insertNaturalKey(NaturalKeyEntry(entity: .transactions, field: "order_id", value: "A-1", recordID: 9)) }
        } catch { refused = true }
        try require(refused, "a second holder of transactions.order_id A-1 was stored")
        try await store.write { tx in try tx.deleteNaturalKey(.transactions, field: "order_id", recordID: 1) }
        let after = try await store.read { tx in
            (try tx.naturalKeyHolder(.transactions, field: "order_id", value: "A-1"), try tx.naturalKeyHolder(.interactions, field: "order_id", value: "A-1"))
        }
        try require(after == (nil, 1), "after deleting transaction 1's entry: \(after)")
    }
}
