import VaultCore
import VaultStore

/// Record rows: customers and their history as a store keeps them. Every column comes back as
/// written; updates guarded by a tag write nothing when the tag moved; entities stay apart.
/// History rows name existing customers (a store may enforce the reference).
enum RecordConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "records: customer rows come back exactly as stored, by id and in id order", run: customers),
        .init(name: "records: an update guarded by a tag writes only while the stored tag is that one", run: guardedUpdate),
        .init(name: "records: history rows come back by id, by owner and in id order, each entity apart", run: history),
        .init(name: "records: an id already held is refused, and a failed transaction leaves no row", run: refusals),
        .init(name: "records: sealed values come back per record, exactly, replaced field by field", run: sealedValues),
        .init(name: "records: a row stored or updated with its sealed values keeps exactly that set; an update without them keeps the stored set",
              run: rowsWithSealedValues),
        .init(name: "records: index entries are found by field, index, version and exact digest, and removed by customer and field", run: indexes),
        .init(name: "records: the next record id is above every id ever held, also after a delete", run: nextIDs),
        .init(name: "records: customer ids page in order; behaviour counters are written whole and read back", run: pagesAndBehaviour),
        .init(name: "records: deleting a customer takes everything it owns (the index entries its row commits to) and nothing else", run: deletion),
        .init(name: "records: index entries of a field come in version and digest order; behaviour rows all come; history rows delete by id",
              run: scans),
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

    static func rowsWithSealedValues(_ store: any VaultStore) async throws {
        let bytes = KeyStoreConformance.bytes
        let first = [SealedEntry(field: "email", keyVersion: 1, sealed: bytes(1, 40), masked: nil),
                     SealedEntry(field: "phone", keyVersion: 2, sealed: bytes(2, 40), masked: bytes(3, 30))]
        let second = [SealedEntry(field: "phone", keyVersion: 3, sealed: bytes(4, 40), masked: bytes(5, 30))]
        try await store.write { tx in
            try tx.insert(customer(1), sealed: first)
            try tx.insert(historyRow(.transactions, 10, owner: 1), sealed: second)
            try tx.insert(customer(2))
        }
        func sealed(_ entity: Entity, _ id: Int64) async throws -> [SealedEntry] {
            try await store.read { tx in try tx.sealedEntries(entity, recordID: id).sorted { $0.field < $1.field } }
        }
        try requireEqual(try await sealed(.customers, 1), first, "a customer stored with its values")
        try requireEqual(try await sealed(.transactions, 10), second, "a transaction stored with its values")
        try requireEqual(try await sealed(.customers, 2), [], "a customer stored without values")
        var edited = customer(1)
        edited.attributes = #"{"region":"UK"}"#
        let changed = edited
        let (kept, replaced, stale) = try await store.write { tx in
            (try tx.update(changed, expectedTag: nil, sealed: nil), try tx.update(historyRow(.transactions, 10, owner: 1), expectedTag: nil, sealed: first),
             try tx.update(changed, expectedTag: [0xde, 0xad], sealed: second))
        }
        try require(kept && replaced && !stale, "updates reported \(kept), \(replaced), \(stale) (the last one's tag is not the stored one)")
        try requireEqual(try await sealed(.customers, 1), first, "a customer updated without values keeps them (and a refused update changes nothing)")
        try requireEqual(try await sealed(.transactions, 10), first, "a transaction updated with a new set holds exactly that set")
        try await store.write { tx in try tx.update(changed, expectedTag: nil, sealed: []) }
        try requireEqual(try await sealed(.customers, 1), [], "a customer updated with an empty set")
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

    static func sealedValues(_ store: any VaultStore) async throws {
        let bytes = KeyStoreConformance.bytes
        let first = [SealedEntry(field: "email", keyVersion: 1, sealed: bytes(1, 60), masked: nil),
                     SealedEntry(field: "address", keyVersion: 2, sealed: bytes(2, 90), masked: bytes(3, 70))]
        try await store.write { tx in
            for id: Int64 in [1, 2] { try tx.insert(customer(id)) }
            try tx.insert(historyRow(.transactions, 1, owner: 1))
            try tx.writeSealedEntries(first, entity: .customers, recordID: 1)
            try tx.writeSealedEntries([SealedEntry(field: "email", keyVersion: 1, sealed: bytes(4, 60), masked: nil)], entity: .customers, recordID: 2)
            try tx.writeSealedEntries([SealedEntry(field: "note", keyVersion: 1, sealed: bytes(5, 40), masked: nil)], entity: .transactions, recordID: 1)
        }
        func sorted(_ entries: [SealedEntry]) -> [SealedEntry] { entries.sorted { $0.field < $1.field } }
        let (one, two, transaction, none) = try await store.read { tx in
            (try tx.sealedEntries(.customers, recordID: 1), try tx.sealedEntries(.customers, recordID: 2),
             try tx.sealedEntries(.transactions, recordID: 1), try tx.sealedEntries(.interactions, recordID: 1))
        }
        try requireEqual(sorted(one), sorted(first), "customer 1's sealed values")
        try requireEqual(two.map(\.sealed), [bytes(4, 60)], "customer 2's sealed values")
        try requireEqual(transaction.map(\.field), ["note"], "transaction 1's sealed values (another entity, same id)")
        try requireEqual(none, [], "a record without sealed values")
        let replaced = SealedEntry(field: "address", keyVersion: 3, sealed: bytes(6, 91), masked: nil)
        try await store.write { tx in try tx.writeSealedEntries([replaced], entity: .customers, recordID: 1) }
        try requireEqual(sorted(try await store.read { tx in try tx.sealedEntries(.customers, recordID: 1) }), sorted([first[0], replaced]),
                         "customer 1 after replacing its address")
    }

    static func indexes(_ store: any VaultStore) async throws {
        let bytes = KeyStoreConformance.bytes
        try await store.write { tx in
            for id: Int64 in [1, 2, 3] { try tx.insert(customer(id)) }
            try tx.insertIndexEntry(field: "email", unique: true, version: 1, digest: bytes(1, 16), customerID: 1)
            try tx.insertIndexEntry(field: "email", unique: true, version: 2, digest: bytes(1, 16), customerID: 2)
            try tx.insertIndexEntry(field: "name", unique: false, version: 1, digest: bytes(9, 4), customerID: 1)
            try tx.insertIndexEntry(field: "name", unique: false, version: 1, digest: bytes(9, 4), customerID: 3)
            try tx.insertIndexEntry(field: "phone", unique: false, version: 1, digest: bytes(9, 4), customerID: 2)
        }
        func holders(_ field: String, _ unique: Bool, _ version: UInt32, _ digest: [UInt8]) async throws -> [Int64] {
            try await store.read { tx in try tx.indexHolders(field: field, unique: unique, version: version, digest: digest).sorted() }
        }
        try requireEqual(try await holders("email", true, 1, bytes(1, 16)), [1], "email v1")
        try requireEqual(try await holders("email", true, 2, bytes(1, 16)), [2], "email v2 (same digest, another version)")
        try requireEqual(try await holders("email", false, 1, bytes(1, 16)), [], "email in the non-unique index")
        try requireEqual(try await holders("name", false, 1, bytes(9, 4)), [1, 3], "name (a collision: two holders)")
        try requireEqual(try await holders("phone", false, 1, bytes(9, 4)), [2], "phone (same digest, another field)")
        try requireEqual(try await holders("name", false, 1, Array(bytes(9, 4).prefix(3))), [], "a prefix of a digest")
        var refused = false
        do {
            try await store.write { tx in try tx.insertIndexEntry(field: "email", unique: true, version: 1, digest: bytes(1, 16), customerID: 3) }
        } catch { refused = true }
        try require(refused, "a second holder of a unique digest was stored")
        try await store.write { tx in try tx.removeIndexEntry(field: "email", unique: true, version: 1, digest: bytes(1, 16), customerID: 1) }
        try await store.write { tx in try tx.removeIndexEntry(field: "name", unique: false, version: 1, digest: bytes(9, 4), customerID: 3) }
        // Only the exact entry: another customer's digest, version or index is not removed.
        try await store.write { tx in
            try tx.removeIndexEntry(field: "email", unique: true, version: 2, digest: bytes(1, 16), customerID: 3)
            try tx.removeIndexEntry(field: "name", unique: true, version: 1, digest: bytes(9, 4), customerID: 1)
            try tx.removeIndexEntry(field: "phone", unique: false, version: 2, digest: bytes(9, 4), customerID: 2)
        }
        try requireEqual(try await holders("phone", false, 1, bytes(9, 4)), [2], "phone after removing entries it does not hold")
        try requireEqual(try await holders("email", true, 1, bytes(1, 16)), [], "email v1 after removing customer 1's")
        try requireEqual(try await holders("email", true, 2, bytes(1, 16)), [2], "customer 2's email, kept")
        try requireEqual(try await holders("name", false, 1, bytes(9, 4)), [1], "name after removing customer 3's")
    }

    static func nextIDs(_ store: any VaultStore) async throws {
        try requireEqual(try await store.read { tx in try tx.nextRecordID(.customers) }, 1, "the first customer id")
        try await store.write { tx in
            for id: Int64 in [1, 2, 7] { try tx.insert(customer(id)) }
            try tx.insert(historyRow(.interactions, 4, owner: 1))
        }
        let (customers, interactions, transactions) = try await store.read { tx in
            (try tx.nextRecordID(.customers), try tx.nextRecordID(.interactions), try tx.nextRecordID(.transactions))
        }
        try require(customers > 7 && interactions > 4 && transactions >= 1, "next ids \(customers), \(interactions), \(transactions)")
    }

    static func pagesAndBehaviour(_ store: any VaultStore) async throws {
        try await store.write { tx in for id: Int64 in [4, 1, 9, 2] { try tx.insert(customer(id, erased: id == 9)) } }
        let (first, rest, none) = try await store.read { tx in
            (try tx.customerIDs(after: 0, limit: 2), try tx.customerIDs(after: 2, limit: 10), try tx.customerIDs(after: 9, limit: 10))
        }
        try requireEqual(first, [1, 2], "the first page")
        try requireEqual(rest, [4, 9], "the rest (an erased customer included)")
        try requireEqual(none, [], "after the last")
        let counters = StoredBehaviour(customerID: 4, browse: 3, purchase: 0, review: 1_000_000_000, updatedAt: "2026-12-01T00:00:00Z", tag: [7])
        try await store.write { tx in try tx.writeBehaviour(counters) }
        try requireEqual(try await store.read { tx in try tx.behaviour(customerID: 4) }, Optional(counters), "behaviour as written")
        let next = StoredBehaviour(customerID: 4, browse: 4, purchase: 1, review: 0, updatedAt: "2026-12-02T00:00:00Z", tag: nil)
        try await store.write { tx in try tx.writeBehaviour(next) }
        try requireEqual(try await store.read { tx in try tx.behaviour(customerID: 4) }, Optional(next), "behaviour replaced")
        try requireEqual(try await store.read { tx in try tx.behaviour(customerID: 1) }, nil, "a customer without counters")
    }

    static func deletion(_ store: any VaultStore) async throws {
        let bytes = KeyStoreConformance.bytes
        @Sendable func own(_ id: Int64, in tx: any StoreWriting) throws {
            // The row commits to its index entries: the store finds them by these digests.
            var row = customer(id)
            row.indexDigests["name"] = IndexDigests.Entry(version: 1, digest: bytes(99, 4))
            try tx.insert(row)
            try tx.insert(historyRow(.transactions, id * 10, owner: id))
            try tx.insert(historyRow(.interactions, id * 10, owner: id))
            try tx.writeSealedEntries([SealedEntry(field: "email", keyVersion: 1, sealed: bytes(Int(id), 40), masked: nil)], entity: .customers, recordID: id)
            try tx.writeSealedEntries([SealedEntry(field: "note", keyVersion: 1, sealed: bytes(Int(id), 40), masked: nil)], entity: .interactions, recordID: id * 10)
            try tx.insertIndexEntry(field: "email", unique: true, version: 1, digest: bytes(Int(id), 16), customerID: id)
            try tx.insertIndexEntry(field: "name", unique: false, version: 1, digest: bytes(99, 4), customerID: id)
            try tx.writeBehaviour(StoredBehaviour(customerID: id, browse: 1, purchase: 1, review: 1, updatedAt: "2026-12-01T00:00:00Z", tag: nil))
            try tx.insertConsentEvent(StoredConsentEvent(id: id, customerID: id, consent: "marketing_consent", granted: true, at: "2026-12-01T00:00:00Z", tag: nil))
            try tx.insertNaturalKey(NaturalKeyEntry(entity: .transactions, field: "order_id", value: "O-\(id)", recordID: id * 10))
            try tx.insertNaturalKey(NaturalKeyEntry(entity: .customers, field: "email", value: "c\(id)", recordID: id))
        }
        try await store.write { tx in
            try own(1, in: tx)
            try own(2, in: tx)
        }
        let deleted = try await store.write { tx in try tx.deleteCustomer(id: 1) }
        let missing = try await store.write { tx in try tx.deleteCustomer(id: 77) }
        try require(deleted && !missing, "deleteCustomer reported \(deleted) for customer 1 and \(missing) for one never stored")
        struct Left: Equatable {
            var row: Bool, transactions: Int, interactions: Int, sealed: Int, sealedHistory: Int, email: [Int64], name: [Int64]
            var behaviour: Bool, consent: Int, orderKey: Int64?, emailKey: Int64?
        }
        func left(_ id: Int64) async throws -> Left {
            try await store.read { tx in
                Left(row: try tx.customerRow(id: id) != nil, transactions: try tx.historyRows(.transactions, customerID: id).count,
                     interactions: try tx.historyRows(.interactions, customerID: id).count, sealed: try tx.sealedEntries(.customers, recordID: id).count,
                     sealedHistory: try tx.sealedEntries(.interactions, recordID: id * 10).count,
                     email: try tx.indexHolders(field: "email", unique: true, version: 1, digest: bytes(Int(id), 16)),
                     name: try tx.indexHolders(field: "name", unique: false, version: 1, digest: bytes(99, 4)).filter { $0 == id },
                     behaviour: try tx.behaviour(customerID: id) != nil, consent: try tx.consentEvents(customerID: id).count,
                     orderKey: try tx.naturalKeyHolder(.transactions, field: "order_id", value: "O-\(id)"),
                     emailKey: try tx.naturalKeyHolder(.customers, field: "email", value: "c\(id)"))
            }
        }
        try requireEqual(try await left(1), Left(row: false, transactions: 0, interactions: 0, sealed: 0, sealedHistory: 0, email: [], name: [],
                                                  behaviour: false, consent: 0, orderKey: nil, emailKey: nil), "what is left of customer 1")
        try requireEqual(try await left(2), Left(row: true, transactions: 1, interactions: 1, sealed: 1, sealedHistory: 1, email: [2], name: [2],
                                                  behaviour: true, consent: 1, orderKey: 20, emailKey: 2), "customer 2, untouched")
        try await store.write { tx in try tx.deleteSealedEntry(.customers, recordID: 2, field: "email") }
        try requireEqual(try await store.read { tx in try tx.sealedEntries(.customers, recordID: 2) }, [], "customer 2 after deleting its e-mail value")
    }

    static func scans(_ store: any VaultStore) async throws {
        let bytes = KeyStoreConformance.bytes
        try await store.write { tx in
            for id: Int64 in 1...4 { try tx.insert(customer(id)) }
            for (id, version, seed) in [(Int64(1), UInt32(2), 5), (2, 1, 9), (3, 1, 5), (4, 2, 5)] {
                try tx.insertIndexEntry(field: "name", unique: false, version: version, digest: bytes(seed, 4), customerID: id)
            }
            try tx.insertIndexEntry(field: "phone", unique: false, version: 1, digest: bytes(5, 4), customerID: 1)
            for id: Int64 in [2, 3] {
                try tx.writeBehaviour(StoredBehaviour(customerID: id, browse: id, purchase: 0, review: 0, updatedAt: "2026-12-01T00:00:00Z", tag: [UInt8(id)]))
            }
            for id: Int64 in 1...5 { try tx.insert(historyRow(.interactions, id, owner: 1)) }
            try tx.writeSealedEntries([SealedEntry(field: "note", keyVersion: 1, sealed: bytes(1, 20), masked: nil)], entity: .interactions, recordID: 2)
        }
        let (entries, behaviour) = try await store.read { tx in
            var entries: [String] = []
            try tx.forEachIndexEntry(field: "name", unique: false) { version, digest, customer in entries.append("\(version):\(digest.first ?? 0):\(customer)") }
            var behaviour: [Int64] = []
            try tx.forEachBehaviour { behaviour.append($0.customerID) }
            return (entries, behaviour)
        }
        let five = bytes(5, 4).first ?? 0, nine = bytes(9, 4).first ?? 0
        let firstGroup = five < nine ? ["1:\(five):3", "1:\(nine):2"] : ["1:\(nine):2", "1:\(five):3"]
        try requireEqual(Array(entries.prefix(2)), firstGroup, "version 1 entries in digest order")
        try requireEqual(Set(entries.dropFirst(2)), ["2:\(five):1", "2:\(five):4"], "version 2 entries, together")
        try requireEqual(behaviour.sorted(), [2, 3], "every behaviour row")
        try await store.write { tx in try tx.deleteHistoryRows(.interactions, ids: [2, 4, 99]) }
        let (left, sealed) = try await store.read { tx in
            (try tx.historyRows(.interactions, customerID: 1).map(\.id), try tx.sealedEntries(.interactions, recordID: 2))
        }
        try requireEqual(left, [1, 3, 5], "interactions after deleting 2 and 4")
        try requireEqual(sealed, [], "the sealed values of a deleted interaction")
    }
}
