import Foundation
import VaultCore
import VaultStore

/// Everything the vault holds about one person (GDPR articles 15 and 20), in a stable structure:
/// `format` names its version; fields are added, never renamed or removed, within a version.
public struct SubjectExport: Sendable, Equatable, Codable {
    public var format = "cvault.subject-export.v1"
    public var vaultID: String
    public var generatedAt: String
    /// Who made the export, for what purpose.
    public var generatedBy: String
    @NullEncoded public var purpose: String?
    public var customer: CustomerRecord
    /// Consent flags (plain `*_consent` attributes) and their current values.
    public var consents: [String: String]
    /// When each consent was given or withdrawn, oldest first.
    public var consentHistory: [ConsentEvent]
    public var transactions: [HistoryRecord]
    public var interactions: [HistoryRecord]
    public var behaviour: BehaviourCounters
    /// Every access-log entry whose target names this customer (single id or a range holding it).
    public var accessLog: [AuditRecord]
}

extension CustomerVault {
    /// The subject access export of one customer (action `subject.export`; shipped role `dpo`).
    /// Values appear in the role's views; the export itself is logged before it is returned.
    func exportSubject(_ id: Int64) async throws -> SubjectExport {
        try await perform(AccessRequest(.subjectExport)) { [principal, purpose, vaultIDBytes] tx, note in
            note.target = "customers:\(id)"
            guard let customer = try Self.loadCustomer(id, note: note, in: tx) else { throw VaultError.notFound("no customer \(id)") }
            var log: [AuditRecord] = []
            var after: Int64 = 0
            while true {
                let page = try Self.auditRecords(tx, filter: AuditFilter(customer: id), after: after, limit: 10_000)
                log += page
                guard let last = page.last, page.count == 10_000 else { break }
                after = last.seq
            }
            return SubjectExport(vaultID: Hex.encode(vaultIDBytes), generatedAt: Timestamps.now(), generatedBy: principal, purpose: purpose,
                                 customer: customer, consents: customer.fields.filter { $0.key.hasSuffix("_consent") },
                                 consentHistory: try ConsentEvents.history(customerID: id, integrity: try note.codec.integrity, in: tx),
                                 transactions: try Self.loadHistory(.transactions, customerID: id, note: note, in: tx),
                                 interactions: try Self.loadHistory(.interactions, customerID: id, note: note, in: tx),
                                 behaviour: try Self.loadBehaviour(id, integrity: try note.codec.integrity, in: tx), accessLog: log)
        }
    }
}
