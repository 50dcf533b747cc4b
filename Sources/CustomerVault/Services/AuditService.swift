/// The access log: read, follow, head checkpoint, term digests (see ``CustomerVault/audit``;
/// verification without a credential is ``CustomerVault/verifyAuditLog(at:expect:)``).
public struct AuditService: Sendable {
    let vault: CustomerVault

    /// Entries after `after` matching `filter`, oldest first.
    public func log(filter: AuditFilter = AuditFilter(), after: Int64 = 0, limit: Int = 100) async throws -> [AuditRecord] {
        try await vault.auditLog(filter: filter, after: after, limit: limit)
    }
    /// Delivers new entries as they are appended until `deliver` throws or the task is cancelled.
    public func follow(filter: AuditFilter = AuditFilter(), after: Int64, interval: Double = 1,
                       deliver: @Sendable ([AuditRecord]) throws -> Void) async throws {
        try await vault.followAuditLog(filter: filter, after: after, interval: interval, deliver: deliver)
    }
    /// A signed checkpoint of the chain's head, to keep outside the vault.
    public func head() async throws -> AuditCheckpoint { try await vault.auditHead() }
    /// The keyed digests under which a search for `value` in `field` is logged.
    public func termDigest(field: String, value: String) async throws -> [String] {
        try await vault.auditTermDigest(field: field, value: value)
    }
}
