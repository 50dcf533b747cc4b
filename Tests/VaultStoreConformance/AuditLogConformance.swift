import VaultCore
import VaultStore

/// The access log as a store keeps it: appended entries come back byte for byte, in sequence
/// order, filtered as asked; a failed transaction leaves none; a sequence number is never reused.
enum AuditLogConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "audit log: an empty log has no head, no entries and no newest entry", run: empty),
        .init(name: "audit log: entries come back exactly as appended, oldest first", run: roundTrip),
        .init(name: "audit log: queries select by sequence range, principal and action, and stop when asked", run: queries),
        .init(name: "audit log: the newest allowed entry matches action, principal, target and a literal detail prefix", run: newest),
        .init(name: "audit log: a write transaction that fails leaves no entry", run: atomicity),
        .init(name: "audit log: a sequence number already held is refused", run: duplicateSeq),
    ]

    /// An entry whose every field differs from its neighbours', with the awkward values a log
    /// holds: no purpose, a reason with non-ASCII text and commas, empty and multi-valued lists.
    static func sample(_ seq: Int64, principal: String = "admin", action: String = "customer.read", outcome: AuditEntry.Outcome = .allowed,
                       target: String? = nil, detail: String? = nil) -> StoredAuditEntry {
        let entry = AuditEntry(
            at: "2026-12-0\(seq % 9 + 1)T10:00:0\(seq % 10)Z", principal: principal, role: principal == "admin" ? "admin" : "support",
            action: action, purpose: seq % 2 == 0 ? "support" : nil, reason: seq % 3 == 0 ? "Ticket #\(seq), Zoë's call" : nil,
            target: target ?? "customers:\(seq)", fields: seq % 2 == 0 ? [] : ["customers.email:plain", "customers.address:masked"],
            outcome: outcome, errorCode: outcome == .allowed ? "" : "access_denied", detail: detail ?? "rule \(seq)",
            policyHash: "00ff\(seq)", terms: seq % 4 == 0 ? ["ab12", "cd34"] : [])
        return StoredAuditEntry(seq: seq, format: 2, entry: entry, previousHash: [UInt8](repeating: UInt8(seq & 0xff), count: 32),
                                hash: (0..<32).map { UInt8((Int(seq) &* 7 &+ $0) & 0xff) }, signature: (0..<64).map { UInt8((Int(seq) &+ $0) & 0xff) })
    }

    static func append(_ entries: [StoredAuditEntry], to store: any VaultStore) async throws {
        try await store.write { tx in for entry in entries { try tx.appendAuditEntry(entry) } }
    }

    static func all(_ store: any VaultStore, _ query: AuditQuery = AuditQuery()) async throws -> [StoredAuditEntry] {
        try await store.read { tx in
            var found: [StoredAuditEntry] = []
            try tx.forEachAuditEntry(query) { found.append($0); return true }
            return found
        }
    }

    static func empty(_ store: any VaultStore) async throws {
        let (head, extent, newest) = try await store.read { tx in
            (try tx.auditHead(), try tx.auditExtent(), try tx.newestAllowedAuditEntry(action: "customer.read", principal: nil, target: nil, detailPrefix: ""))
        }
        try require(head == nil, "head of an empty log: \(String(describing: head))")
        try require(extent == (0, 0), "extent of an empty log: \(extent)")
        try require(newest == nil, "newest entry of an empty log")
        try requireEqual(try await all(store).count, 0, "entries of an empty log")
    }

    static func roundTrip(_ store: any VaultStore) async throws {
        let entries = (1...12).map { sample($0) }
        try await append(Array(entries[0..<5]), to: store)
        try await append(Array(entries[5...]), to: store)
        try requireEqual(try await all(store), entries, "entries read back")
        let head = try await store.read { tx in try tx.auditHead() }
        try requireEqual(head, AuditHead(seq: 12, hash: entries[11].hash), "head")
        let extent = try await store.read { tx in try tx.auditExtent() }
        try require(extent == (12, 12), "extent: \(extent)")
    }

    static func queries(_ store: any VaultStore) async throws {
        let entries = (1...10).map { sample($0, principal: $0 % 3 == 0 ? "bob" : "admin", action: $0 % 2 == 0 ? "customer.search" : "customer.read") }
        try await append(entries, to: store)
        try requireEqual(try await all(store, AuditQuery(after: 3, through: 7)).map(\.seq), [4, 5, 6, 7], "seq in (3, 7]")
        try requireEqual(try await all(store, AuditQuery(principal: "bob")).map(\.seq), [3, 6, 9], "principal bob")
        try requireEqual(try await all(store, AuditQuery(action: "customer.search")).map(\.seq), [2, 4, 6, 8, 10], "action customer.search")
        try requireEqual(try await all(store, AuditQuery(after: 2, principal: "admin", action: "customer.read")).map(\.seq), [5, 7], "combined")
        let firstTwo = try await store.read { tx in
            var seen: [Int64] = []
            try tx.forEachAuditEntry(AuditQuery()) { seen.append($0.seq); return seen.count < 2 }
            return seen
        }
        try requireEqual(firstTwo, [1, 2], "stopping after two")
    }

    static func newest(_ store: any VaultStore) async throws {
        try await append([
            sample(1, action: "principals.manage", target: "principal:bob", detail: "disabled"),
            sample(2, action: "principals.manage", target: "principal:bob", detail: "disabled again"),
            sample(3, action: "principals.manage", outcome: .denied, target: "principal:bob", detail: "disabled"),
            sample(4, principal: "carol", action: "principals.manage", target: "principal:dave", detail: "disabled"),
            sample(5, action: "principals.manage", target: "principal:bob", detail: "dis%abled"),
            sample(6, action: "credential.change", target: "principal:bob", detail: "disabled"),
        ], to: store)
        func newest(_ principal: String?, _ target: String?, _ prefix: String, action: String = "principals.manage") async throws -> Int64? {
            try await store.read { tx in try tx.newestAllowedAuditEntry(action: action, principal: principal, target: target, detailPrefix: prefix)?.seq }
        }
        try requireEqual(try await newest(nil, "principal:bob", "disabled"), 2, "newest allowed, denied entry 3 skipped")
        try requireEqual(try await newest("carol", nil, "disabled"), 4, "by principal")
        try requireEqual(try await newest(nil, "principal:dave", "disabled"), 4, "by target")
        try requireEqual(try await newest(nil, nil, "dis%"), 5, "a prefix is literal, not a pattern")
        try requireEqual(try await newest(nil, nil, "dis_bled"), nil, "an underscore is literal")
        try requireEqual(try await newest(nil, nil, "disabled", action: "credential.change"), 6, "by action")
        try requireEqual(try await newest("nobody", nil, ""), nil, "no entry of that principal")
        try requireEqual(try await newest(nil, nil, "disabled again and more"), nil, "a prefix longer than the detail")
    }

    struct Planned: Error {}

    static func atomicity(_ store: any VaultStore) async throws {
        try await append([sample(1)], to: store)
        do {
            try await store.write { tx in
                try tx.appendAuditEntry(sample(2))
                throw Planned()
            }
            throw ConformanceFailure("the failing transaction did not rethrow")
        } catch is Planned {}
        try requireEqual(try await all(store).map(\.seq), [1], "entries after a failed transaction")
        try await append([sample(2)], to: store)
        try requireEqual(try await all(store).map(\.seq), [1, 2], "the sequence number of the failed entry is free again")
    }

    static func duplicateSeq(_ store: any VaultStore) async throws {
        try await append([sample(1), sample(2)], to: store)
        var refused = false
        do { try await append([sample(2)], to: store) } catch { refused = true }
        try require(refused, "a second entry 2 was accepted")
        try requireEqual(try await all(store), [sample(1), sample(2)], "entries after the refused append")
    }
}
