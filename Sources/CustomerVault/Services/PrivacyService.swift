/// Data-subject rights and data hygiene (see ``CustomerVault/privacy``).
public struct PrivacyService: Sendable {
    let vault: CustomerVault

    /// Erases a customer: values, history, index entries and WAL copies, with a ledger entry.
    public func erase(_ id: Int64) async throws -> ErasureReceipt { try await vault.eraseCustomer(id) }
    /// Everything the vault holds about one customer, with its access log (GDPR art. 15).
    public func exportSubject(_ id: Int64) async throws -> SubjectExport { try await vault.exportSubject(id) }
    /// The erasure ledger (ids and times, no values).
    public func erasureLedger() async throws -> [ErasureLedgerEntry] { try await vault.erasureLedger() }
    /// Erases customers past the policy's retention rules (`dryRun` lists them only).
    public func applyRetention(dryRun: Bool) async throws -> RetentionReport { try await vault.applyRetention(dryRun: dryRun) }
    /// Groups of customers sharing a blind-index digest of an identifying field.
    public func findDuplicates() async throws -> [DuplicateGroup] { try await vault.findDuplicates() }
    /// Moves `drop`'s history to `keep` and deletes `drop`.
    public func merge(keep: Int64, drop: Int64) async throws -> MergeReport { try await vault.mergeCustomers(keep: keep, drop: drop) }
}
