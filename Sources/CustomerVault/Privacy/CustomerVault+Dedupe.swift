import Foundation
import GRDB

/// Customers that are probably the same person, and what links them.
public struct DuplicateGroup: Sendable, Equatable, Codable {
    public var customers: [Int64]
    /// `phone`, `name+birth_date`, `name+address`: the links found inside the group.
    public var links: [String]
}

extension CustomerVault {
    /// Groups of probable duplicates among the customers this role sees (action `customer.list`):
    /// the same normalised phone, or the same normalised name with the same birth date or
    /// address. A link is used only when the role sees its fields in plain. E-mails are unique
    /// already. Candidates come from the blind indexes (bucket by bucket, so only customers that
    /// share an index entry are opened); each is confirmed on the opened values, so a bucket
    /// collision never makes a group.
    public func findDuplicates() async throws -> [DuplicateGroup] {
        try await perform(AccessRequest(.customerList)) { db, note in
            let plain = { (field: String) in note.decision.views["customers.\(field)"] == .plain }
            var groups = UnionFind()
            var opened: [Int64: [String: String]?] = [:]
            func values(_ id: Int64) throws -> [String: String]? {
                if let cached = opened[id] { return cached }
                var result: [String: String]?
                if let (attributes, _) = try Self.visibleAttributes(id, note: note, db: db) {
                    result = attributes.merging(try note.codec.readSealed(entity: .customers, recordID: id, db: db).values) { _, sealed in sealed }
                }
                opened[id] = result
                return result
            }
            func buckets(_ field: String) throws -> [[Int64]] {
                try String.fetchAll(db, sql: """
                    SELECT group_concat(customer_id) FROM blind_indexes WHERE field = ? GROUP BY key_version, digest HAVING count(*) > 1
                    """, arguments: [field]).map { $0.split(separator: ",").compactMap { Int64($0) } }
            }
            var linked: [Int64: Set<String>] = [:]
            func link(_ members: [Int64], _ kind: String) {
                guard members.count > 1 else { return }
                for member in members { groups.union(members[0], member); linked[member, default: []].insert(kind) }
            }
            if plain("phone") {
                for bucket in try buckets("phone") {
                    var byPhone: [String: [Int64]] = [:]
                    for id in bucket { if let phone = try values(id)?["phone"] { byPhone[phone, default: []].append(id) } }
                    for members in byPhone.values { link(members, "phone") }
                }
            }
            if plain("name") && (plain("birth_date") || plain("address")) {
                for bucket in try buckets("name") {
                    var byName: [String: [(Int64, [String: String])]] = [:]
                    for id in bucket {
                        if let record = try values(id), let name = record["name"] { byName[Normalization.name(name), default: []].append((id, record)) }
                    }
                    for people in byName.values where people.count > 1 {
                        for (field, kind) in [("birth_date", "name+birth_date"), ("address", "name+address")] where plain(field) {
                            var byValue: [String: [Int64]] = [:]
                            for (id, record) in people { if let value = record[field], !value.isEmpty { byValue[value, default: []].append(id) } }
                            for members in byValue.values { link(members, kind) }
                        }
                    }
                }
            }
            var result: [Int64: [Int64]] = [:]
            for id in linked.keys { result[groups.find(id), default: []].append(id) }
            let found = result.values.map { members in
                DuplicateGroup(customers: members.sorted(), links: Set(members.flatMap { linked[$0] ?? [] }).sorted())
            }.sorted { $0.customers[0] < $1.customers[0] }
            note.target = AuditTrail.bulkTarget(entity: .customers, ids: Array(linked.keys))
            note.detail = "dedupe: \(found.count) groups of probable duplicates"
            return found
        }
    }
}

/// Disjoint sets of customer ids.
struct UnionFind {
    private var parent: [Int64: Int64] = [:]

    mutating func find(_ id: Int64) -> Int64 {
        var root = id
        while let next = parent[root], next != root { root = next }
        var node = id
        while let next = parent[node], next != root { parent[node] = root; node = next }
        return root
    }

    mutating func union(_ a: Int64, _ b: Int64) {
        let (ra, rb) = (find(a), find(b))
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }
}

/// What a merge moved.
public struct MergeReport: Sendable, Equatable, Codable {
    public var kept: Int64
    public var dropped: Int64
    public var transactionsMoved: Int
    public var interactionsMoved: Int
    /// Behaviour counters of the kept customer after adding the dropped one's.
    public var behaviour: BehaviourCounters
}

extension CustomerVault {
    /// Merges customer `drop` into `keep` (action `customer.delete`, since `drop` is deleted): its
    /// transactions and interactions move to `keep`, its behaviour counters are added to
    /// `keep`'s, and `drop` is deleted with its own values and index entries (values `keep` lacks
    /// are not copied; update `keep` first if they are needed). One audited transaction.
    public func mergeCustomers(keep: Int64, drop: Int64) async throws -> MergeReport {
        guard keep != drop else { throw VaultError.invalidInput("a customer cannot be merged into itself") }
        return try await perform(AccessRequest(.customerDelete)) { db, note in
            note.target = "customers:\(min(keep, drop)),\(max(keep, drop))"
            for id in [keep, drop] {
                guard try Self.visibleAttributes(id, note: note, db: db) != nil else { throw VaultError.notFound("no customer \(id)") }
            }
            var report = MergeReport(kept: keep, dropped: drop, transactionsMoved: 0, interactionsMoved: 0, behaviour: BehaviourCounters())
            try db.execute(sql: "UPDATE transactions SET customer_id = ? WHERE customer_id = ?", arguments: [keep, drop])
            report.transactionsMoved = db.changesCount
            try db.execute(sql: "UPDATE interactions SET customer_id = ? WHERE customer_id = ?", arguments: [keep, drop])
            report.interactionsMoved = db.changesCount
            let dropped = try Self.loadBehaviour(drop, db: db)
            let kept = try Self.loadBehaviour(keep, db: db)
            report.behaviour = BehaviourCounters(browse: kept.browse + dropped.browse, purchase: kept.purchase + dropped.purchase,
                                                 review: kept.review + dropped.review)
            try db.execute(sql: """
                INSERT INTO behaviour (customer_id, browse_count, purchase_count, review_count, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(customer_id) DO UPDATE SET browse_count = excluded.browse_count, purchase_count = excluded.purchase_count,
                    review_count = excluded.review_count, updated_at = excluded.updated_at
                """, arguments: [keep, report.behaviour.browse, report.behaviour.purchase, report.behaviour.review, Timestamps.now()])
            try db.execute(sql: "DELETE FROM customers WHERE id = ?", arguments: [drop])
            note.detail = "merged customer \(drop) into \(keep): \(report.transactionsMoved) transactions, \(report.interactionsMoved) interactions moved"
            return report
        }
    }
}
