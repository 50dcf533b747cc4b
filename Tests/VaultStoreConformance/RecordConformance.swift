import VaultCore
import VaultStore

/// Record rows: customers and their history as a store keeps them. Every column comes back as
/// written; updates guarded by a tag write nothing when the tag moved; entities stay apart.
/// History rows name existing customers (a store may enforce the reference).
/// (Sealed values and index entries are written by the services' codec until the record layout
/// moves behind the seam; their checks come with it.)
enum RecordConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "records: customer rows come back exactly as stored, by id and in id order", run: customers),
        .init(name: "records: an update guarded by a tag writes only while the stored tag is that one", run: guardedUpdate),
        .init(name: "records: history rows come back by id, by owner and in id order, each entity apart", run: history),
        .init(name: "records: an id already held is refused, and a failed transaction leaves no row", run: refusals),
    ]

    static func customer(_ id: Int64, erased: Bool = false) -> CustomerRow {
        var digests = IndexDigests()
        digests["email"] = IndexDigests.Entry(version: 1, digest: KeyStoreConformance.bytes(Int(id), 16))
        if id % 2 == 0 { digests["phone"] = IndexDigests.Entry(version: 2, digest: KeyStoreConformance.bytes(Int(id) + 1, 16)) }
        return CustomerRow(id: id, createdAt: "2026-01-0\(id % 9 + 1)T00:00:00Z", updatedAt: "2026-02-0\(id % 9 + 1)T00:00:00Z",
                           attributes: #"{"region":"EU","segment":"Zoë \#(id)"}"#, erasedAt: erased ? "2026-03-01T00:00:00Z" : nil,
                           sealedDigest: KeyStoreConformance.bytes(Int(id) + 2, 32), indexDigests: digests,
                           tag: id == 3 ? nil : KeyStoreConformance.bytes(Int(id) + 3, 16))
    }

    static func historyRow(_ entity: Entity, _ id: Int64, owner: Int64) -> HistoryRow {
        HistoryRow(entity: entity, id: id, customerID: owner, createdAt: "2026-04-0\(id % 9 + 1)T00:00:00Z",
                   attributes: #"{"channel":"email","n":"\#(id)"}"#, sealedDigest: KeyStoreConformance.bytes(Int(id) + 4, 32),
                   tag: KeyStoreConformance.bytes(Int(id) + 5, 16))
    }

    static func allCustomers(_ store: any VaultStore) async throws -> [CustomerRow] {
        try await store.read { tx in
            var rows: [CustomerRow] = []
            try tx.forEachCustomerRow { rows.append($0) }
            return rows
        }
    }

    static func customers(_ store: any VaultStore) async throws {
        let rows = [customer(5), customer(1), customer(3), customer(2, erased: true)]
        try await store.write { tx in for row in rows { try tx.insert(row) } }
        let byID = try await store.read { tx in try rows.map { try tx.customerRow(id: $0.id) } }
        try requireEqual(byID, rows.map { Optional($0) }, "customer rows by id")
        try requireEqual(try await allCustomers(store), rows.sorted { $0.id < $1.id }, "every customer row in id order")
        try requireEqual(try await store.read { tx in try tx.customerRow(id: 99) }, nil, "a customer never stored")
    }

    static func guardedUpdate(_ store: any VaultStore) async throws {
        try await store.write { tx in
            try tx.insert(customer(1))
            try tx.insert(customer(2))
        }
        var changed = customer(1)
        changed.attributes = #"{"region":"US"}"#
        changed.erasedAt = "2026-05-01T00:00:00Z"
        changed.indexDigests = IndexDigests()
        changed.tag = KeyStoreConformance.bytes(60, 16)
        let stale = try await store.write { [changed] tx in try tx.update(changed, expectedTag: KeyStoreConformance.bytes(61, 16)) }
        try require(!stale, "an update with a stale tag reported a write")
        try requireEqual(try await store.read { tx in try tx.customerRow(id: 1) }, Optional(customer(1)), "the row after a stale update")
        let written = try await store.write { [changed] tx in try tx.update(changed, expectedTag: customer(1).tag) }
        try require(written, "an update with the stored tag reported no write")
        try requireEqual(try await store.read { tx in try tx.customerRow(id: 1) }, Optional(changed), "the row after the update")
        var history = historyRow(.transactions, 1, owner: 1)
        try await store.write { [history] tx in try tx.insert(history) }
        history.customerID = 2
        history.tag = KeyStoreConformance.bytes(70, 16)
        try require(!(try await store.write { [history] tx in try tx.update(history, expectedTag: [0]) }), "a stale history update wrote")
        try require(try await store.write { [history] tx in try tx.update(history, expectedTag: historyRow(.transactions, 1, owner: 1).tag) },
                    "a history update with the stored tag wrote nothing")
        try requireEqual(try await store.read { tx in try tx.historyRow(.transactions, id: 1) }, Optional(history), "the history row after the update")
    }

    static func history(_ store: any VaultStore) async throws {
        let transactions = [historyRow(.transactions, 1, owner: 10), historyRow(.transactions, 2, owner: 11), historyRow(.transactions, 3, owner: 10)]
        let interactions = [historyRow(.interactions, 1, owner: 11), historyRow(.interactions, 4, owner: 10)]
        try await store.write { tx in
            try tx.insert(customer(10))
            try tx.insert(customer(11))
            for row in transactions + interactions { try tx.insert(row) }
        }
        let (byID, ofTen, interactionsOfTen, none) = try await store.read { tx in
            (try transactions.map { try tx.historyRow(.transactions, id: $0.id) }, try tx.historyRows(.transactions, customerID: 10),
             try tx.historyRows(.interactions, customerID: 10), try tx.historyRow(.interactions, id: 2))
        }
        try requireEqual(byID, transactions.map { Optional($0) }, "transactions by id")
        try requireEqual(ofTen, [transactions[0], transactions[2]], "customer 10's transactions in id order")
        try requireEqual(interactionsOfTen, [interactions[1]], "customer 10's interactions")
        try requireEqual(none, nil, "interaction 2 was never stored (transaction 2 is another entity)")
        let all = try await store.read { tx in
            var rows: [HistoryRow] = []
            try tx.forEachHistoryRow(.interactions) { rows.append($0) }
            return rows
        }
        try requireEqual(all, interactions, "every interaction in id order")
    }

    struct Planned: Error {}

    static func refusals(_ store: any VaultStore) async throws {
        try await store.write { tx in
            try tx.insert(customer(1))
            try tx.insert(historyRow(.interactions, 1, owner: 1))
        }
        var refused = 0
        do { try await store.write { tx in try tx.insert(customer(1, erased: true)) } } catch { refused += 1 }
        do { try await store.write { tx in try tx.insert(historyRow(.interactions, 1, owner: 1)) } } catch { refused += 1 }
        try requireEqual(refused, 2, "refused inserts of ids already held")
        do {
            try await store.write { tx in
                try tx.insert(customer(2))
                try tx.insert(historyRow(.transactions, 5, owner: 2))
                throw Planned()
            }
        } catch is Planned {}
        try requireEqual(try await allCustomers(store).map(\.id), [1], "customers after the refusals and the failed transaction")
        try requireEqual(try await store.read { tx in try tx.historyRow(.transactions, id: 5) }, nil, "history after the failed transaction")
        try requireEqual(try await store.read { tx in try tx.historyRow(.interactions, id: 1) }, Optional(historyRow(.interactions, 1, owner: 1)),
                         "the first interaction 1, unchanged")
    }
}
