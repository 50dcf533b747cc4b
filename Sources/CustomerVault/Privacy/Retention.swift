import Foundation
import VaultCore
import VaultStore

/// What retention removed, or would remove with `dryRun`.
public struct RetentionReport: Sendable, Equatable, Codable {
    public struct Item: Sendable, Equatable, Codable {
        public var kind: RetentionKind
        public var period: String
        /// Records older than this instant fall out of retention.
        public var cutoff: String
        public var count: Int
    }

    public var dryRun: Bool
    public var asOf: String
    public var items: [Item]
}

extension CustomerVault {
    /// Applies the policy's retention periods (action `subject.erase`, as removing personal data;
    /// roles with row conditions are refused, since retention covers every customer). With
    /// `dryRun` it counts and changes nothing; both use the same selection, so the counts agree.
    /// Inactive customers are erased like `eraseCustomer` (ledger included).
    func applyRetention(dryRun: Bool) async throws -> RetentionReport {
        try await applyRetention(dryRun: dryRun, asOf: Date())
    }

    /// ``applyRetention(dryRun:)`` as of another moment (tests compare a dry run and a run at one instant).
    func applyRetention(dryRun: Bool, asOf now: Date) async throws -> RetentionReport {
        let rules = policy.retention
        let report = try await perform(AccessRequest(.subjectErase)) { [policy, principal, purpose, vaultIDBytes, secrets] tx, note in
            note.target = "retention"
            guard note.decision.rows.isUnrestricted else {
                throw VaultError.accessDenied("access denied: retention covers every customer; a role with row conditions cannot apply it")
            }
            let integrity = try note.codec.integrity
            var report = RetentionReport(dryRun: dryRun, asOf: Timestamps.instant(now), items: [])
            var erased: [ErasureLedgerEntry] = []
            for kind in RetentionKind.allCases {
                guard let period = rules[kind] else { continue }
                let cutoff = period.cutoff(from: now)
                let ids = try Self.outOfRetention(kind, before: cutoff, integrity: integrity, in: tx)
                report.items.append(.init(kind: kind, period: period.description, cutoff: cutoff, count: ids.count))
                guard !dryRun else { continue }
                switch kind {
                case .interactions, .transactions:
                    try tx.deleteHistoryRows(kind == .interactions ? .interactions : .transactions, ids: ids)
                case .inactiveCustomers:
                    let at = Timestamps.now()
                    for id in ids {
                        erased.append(try Self.erase(id, policy: policy, vaultID: vaultIDBytes, principal: principal,
                                                     purpose: purpose ?? "retention", at: at, signer: secrets.signingKeyPair,
                                                     integrity: integrity, in: tx))
                    }
                }
            }
            note.detail = (dryRun ? "retention dry run: " : "retention applied: ")
                + (report.items.isEmpty ? "the policy sets no retention period" : report.items.map { "\($0.count) \($0.kind.rawValue) before \($0.cutoff)" }.joined(separator: ", "))
            return (report, erased, note.decision)
        }
        if !report.1.isEmpty {
            try? await syncErasureSidecar(allowedBy: report.2)
            try? await checkpoint()
        }
        return report.0
    }

    /// Ids of the records of `kind` that fall out of retention at `cutoff`. Every row the choice
    /// depends on is read and checked against its tag (a date altered in the file must not keep a
    /// record past its period, nor remove one inside it).
    static func outOfRetention(_ kind: RetentionKind, before cutoff: String, integrity: RecordIntegrity, in tx: some StoreReading) throws -> [Int64] {
        func latest(_ entity: Entity, _ attribute: String) throws -> (old: [Int64], lastByCustomer: [Int64: String]) {
            var old: [Int64] = []
            var last: [Int64: String] = [:]
            try HistoryRow.forEachVerified(entity, integrity: integrity, in: tx) { row in
                let time = try row.decodedAttributes()[attribute] ?? ""
                if time < cutoff { old.append(row.id) }
                if time > last[row.customerID] ?? "" { last[row.customerID] = time }
            }
            return (old, last)
        }
        switch kind {
        case .interactions: return try latest(.interactions, "occurred_at").old
        case .transactions: return try latest(.transactions, "order_time").old
        case .inactiveCustomers:
            let orders = try latest(.transactions, "order_time").lastByCustomer
            let contacts = try latest(.interactions, "occurred_at").lastByCustomer
            var inactive: [Int64] = []
            try tx.forEachCustomerRow { row in
                try row.verify(integrity)
                guard row.erasedAt == nil, row.updatedAt < cutoff, orders[row.id] ?? "" < cutoff, contacts[row.id] ?? "" < cutoff else { return }
                inactive.append(row.id)
            }
            return inactive
        }
    }
}
