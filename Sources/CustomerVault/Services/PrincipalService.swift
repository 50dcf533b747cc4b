public import VaultCrypto
public import VaultCore

/// Principals, their credentials, and the policy that decides their keyrings (see
/// ``CustomerVault/principals``).
public struct PrincipalService: Sendable {
    let vault: CustomerVault

    /// Adds a principal with `role`, provisioning exactly the keys its role grants.
    public func add(_ name: String, role: String, attributes: [String: String] = [:], credential: Credential,
                    kdf: Argon2id.Parameters = .interactive) async throws -> PrincipalInfo {
        try await vault.addPrincipal(name, role: role, attributes: attributes, credential: credential, kdf: kdf)
    }
    /// Every principal with its role, attributes, credential kind and key count.
    public func list() async throws -> [PrincipalInfo] { try await vault.listPrincipals() }
    /// Disables a principal (its keyring is deleted), optionally rotating the keys it held.
    @discardableResult
    public func disable(_ name: String, rotatingItsKeys: Bool = false, batchSize: Int = CustomerVault.defaultRotationBatchSize,
                        progress: (@Sendable (RotationProgress) -> Void)? = nil) async throws -> RotationReport? {
        try await vault.disablePrincipal(name, rotatingItsKeys: rotatingItsKeys, batchSize: batchSize, progress: progress)
    }
    /// Changes a principal's role or attributes; keys the new role does not grant are removed.
    public func update(_ name: String, role: String? = nil, setting attributes: [String: String] = [:], removing: [String] = [],
                       rotatingLostKeys: Bool = false, batchSize: Int = CustomerVault.defaultRotationBatchSize,
                       progress: (@Sendable (RotationProgress) -> Void)? = nil) async throws -> PrincipalUpdate {
        try await vault.updatePrincipal(name, role: role, setting: attributes, removing: removing, rotatingLostKeys: rotatingLostKeys,
                                        batchSize: batchSize, progress: progress)
    }
    /// Re-wraps the caller's own keyring under a new credential; returns a handle unlocked with it.
    @discardableResult
    public func changeCredential(to credential: Credential, kdf: Argon2id.Parameters = .interactive) async throws -> CustomerVault {
        try await vault.changeCredential(to: credential, kdf: kdf)
    }
    /// Signs and applies a new policy, re-provisioning every principal's keyring to match.
    public func applyPolicy(_ policy: Policy) async throws -> [KeyringChange] { try await vault.applyPolicy(policy) }
    /// Parses, checks, signs and applies a policy file.
    public func applyPolicy(yaml: String, fileName: String) async throws -> [KeyringChange] {
        try await vault.applyPolicy(yaml: yaml, fileName: fileName)
    }
}
