/// The whole-vault check: every tag, value, index entry, grant and the audit chain (see
/// ``CustomerVault/integrity``).
public struct IntegrityService: Sendable {
    let vault: CustomerVault

    /// Opens and checks everything the caller's keys can reach; throws on the first finding.
    public func verify() async throws -> IntegrityReport { try await vault.verifyIntegrity() }
}
