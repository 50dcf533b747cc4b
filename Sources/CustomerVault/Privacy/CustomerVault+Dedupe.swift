import Foundation
import VaultCore
import VaultStore

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
    func findDuplicates() async throws -> [DuplicateGroup] {
        try await perform(AccessRequest(.customerList)) { tx, note in
            let plain = { (field: String) in note.decision.views["customers.\(field)"] == .plain }
            var groups = UnionFind()
            var opened: [Int64: [String: String]?] = [:]
            func values(_ id: Int64) throws -> [String: String]? {
                if let cached = opened[id] { return cached }
                var result: [String: String]?
                if let (attributes, row) = try Self.visibleAttributes(id, note: note, in: tx) {
                    let sealed = try note.codec.readSealed(entity: .customers, recordID: id, expectedDigest: row.sealedDigest, in: tx)
                    result = attributes.merging(sealed.values) { _, sealed in sealed }
                }
                opened[id] = result
                return result
            }
            // Buckets of one field, in index order; each member's record must commit to its entry.
            func buckets(_ field: String) throws -> [[Int64]] {
                guard let schema = note.codec.schema.field(.customers, field) else { return [] }
                var buckets: [[Int64]] = []
                var current: (version: UInt32, digest: [UInt8])?
                var members: [(Int64, UInt32, [UInt8])] = []
                func close() throws {
                    guard members.count > 1 else { return }
                    for (customer, version, digest) in members {
                        guard let row = try tx.customerRow(id: customer) else {
                            throw VaultError.integrity("an index entry names customer \(customer), which does not exist")
                        }
                        try row.verify(try note.codec.integrity)
                        try RecordCodec.checkIndexed((schema, version, digest), by: row)
                    }
                    buckets.append(members.map(\.0))
                }
                try tx.forEachIndexEntry(field: field, unique: false) { version, digest, customer in
                    if current.map({ $0.version != version || $0.digest != digest }) ?? true {
                        try close()
                        members = []
                        current = (version, digest)
                    }
                    members.append((customer, version, digest))
                }
                try close()
                return buckets
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
                        if let record = try values(id), let name = record["name"] { byName[Normalization.dedupeName(name), default: []].append((id, record)) }
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
            note.target = AuditChain.bulkTarget(entity: .customers, ids: Array(linked.keys))
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
    func mergeCustomers(keep: Int64, drop: Int64) async throws -> MergeReport {
        guard keep != drop else { throw VaultError.invalidInput("a customer cannot be merged into itself") }
        return try await perform(AccessRequest(.customerDelete)) { tx, note in
            note.target = "customers:\(min(keep, drop)),\(max(keep, drop))"
            for id in [keep, drop] {
                guard try Self.visibleAttributes(id, note: note, in: tx) != nil else { throw VaultError.notFound("no customer \(id)") }
            }
            let integrity = try note.codec.integrity
            var report = MergeReport(kept: keep, dropped: drop, transactionsMoved: 0, interactionsMoved: 0, behaviour: BehaviourCounters())
            // Each moved row is checked, then bound to its new owner by a new tag.
            for entity in [Entity.transactions, .interactions] {
                for var row in try HistoryRow.fetchVerified(entity, customerID: drop, integrity: integrity, in: tx) {
                    row.customerID = keep
                    try row.retag(integrity)
                    try tx.update(row)
                    if entity == .transactions { report.transactionsMoved += 1 } else { report.interactionsMoved += 1 }
                }
            }
            let dropped = try Self.loadBehaviour(drop, integrity: integrity, in: tx)
            let kept = try Self.loadBehaviour(keep, integrity: integrity, in: tx)
            report.behaviour = try kept.adding(dropped)
            try Self.storeBehaviour(keep, report.behaviour, integrity: integrity, in: tx)
            try tx.deleteCustomer(id: drop)
            note.detail = "merged customer \(drop) into \(keep): \(report.transactionsMoved) transactions, \(report.interactionsMoved) interactions moved"
            return report
        }
    }
}
