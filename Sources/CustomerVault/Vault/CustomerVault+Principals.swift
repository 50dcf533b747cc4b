import Foundation
import GRDB
public import VaultCrypto

/// A principal as `principal list` shows it: no key material.
public struct PrincipalInfo: Sendable, Equatable, Codable {
    public var name: String
    public var role: String
    public var attributes: [String: String]
    /// `passphrase` or `key_file`.
    public var credential: String
    public var disabled: Bool
    /// Number of key grants it holds.
    public var keys: Int
}

extension CustomerVault {
    /// Adds a principal with its own credential and provisions its keyring from its role.
    ///
    /// The new principal's keys are sealed to its fresh X25519 public key; only `credential`
    /// unlocks them. Needs `principals.manage` (a key custodian).
    ///
    /// - Throws: ``VaultError`` `.invalidInput` (bad name, unknown role, bad attributes),
    ///   `.conflict` (name taken), `.accessDenied`.
    public func addPrincipal(_ name: String, role: String, attributes: [String: String] = [:], credential: Credential,
                             kdf: Argon2id.Parameters = .interactive) async throws -> PrincipalInfo {
        try await requireAllowed(AccessRequest(.principalsManage))
        try PrincipalRecord.validateName(name)
        try PrincipalRecord.validateAttributes(attributes)
        guard let rolePolicy = policy.role(role) else {
            throw VaultError.invalidInput("role \(PolicyLoader.shown(role)) is not defined in the policy in force (roles: \(policy.roles.keys.sorted().joined(separator: ", ")))")
        }
        guard kdf.isWithinAcceptedRange else { throw VaultError.invalidInput("Argon2id parameters are outside the accepted range") }
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: keyring)
        let secrets = try PrincipalSecrets.generate(rootSigningPublicKey: provisioner.root.publicKey)
        var record = try PrincipalRecord.make(name: name, role: role, attributes: attributes, credential: credential, kdf: kdf,
                                              secrets: secrets, vaultID: vaultIDBytes)
        try record.certify(vaultID: vaultIDBytes, root: provisioner.root)
        let prepared = record
        return try await perform(AccessRequest(.principalsManage)) { db, note in
            note.target = "principal:\(name)"
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM principals WHERE name = ?", arguments: [name]) != true else {
                throw VaultError.conflict("a principal named \(name) already exists")
            }
            var stored = prepared
            stored.id = try prepared.insert(db)
            let change = try provisioner.provision(stored, role: rolePolicy, db: db)
            note.detail = "added with role \(role), \(change.added) keys"
            return PrincipalInfo(name: name, role: role, attributes: attributes, credential: credential.kind.rawValue,
                                 disabled: false, keys: change.added)
        }
    }

    /// Every principal of the vault (needs `principals.manage`).
    public func listPrincipals() async throws -> [PrincipalInfo] {
        try await perform(AccessRequest(.principalsManage)) { db, note in
            note.target = "principals"
            return try PrincipalRecord.fetchAll(db).map { record in
                PrincipalInfo(name: record.name, role: record.role, attributes: record.attributes, credential: record.parameters.kind.rawValue,
                              disabled: record.disabled,
                              keys: try Int.fetchOne(db, sql: "SELECT count(*) FROM key_grants WHERE principal_id = ?", arguments: [record.id]) ?? 0)
            }
        }
    }

    /// Disables a principal and deletes its keyring. Its credential then unlocks nothing; its
    /// access-log entries and the values it wrote stay. With `rotatingItsKeys`, every field whose
    /// keys it held is then rotated, so keys it may have copied open nothing written or re-encrypted
    /// afterwards (retire the old versions once the rotation is done).
    @discardableResult
    public func disablePrincipal(_ name: String, rotatingItsKeys: Bool = false, batchSize: Int = defaultRotationBatchSize,
                                 progress: (@Sendable (RotationProgress) -> Void)? = nil) async throws -> RotationReport? {
        try await requireAllowed(AccessRequest(.principalsManage))
        guard name != principal else { throw VaultError.invalidInput("a principal cannot disable itself") }
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: keyring)
        let heldFields = try await perform(AccessRequest(.principalsManage)) { db, note in
            note.target = "principal:\(name)"
            var record = try PrincipalRecord.fetch(db, name: name)
            guard !record.disabled else { throw VaultError.conflict("principal \(name) is already disabled") }
            let held = Set(try record.fetchGrants(db).map(\.scope.field).filter { $0 != KeyScope.vaultWide })
            record.disabled = true
            try db.execute(sql: "UPDATE principals SET disabled = 1 WHERE id = ?", arguments: [record.id])
            let change = try provisioner.provision(record, role: nil, db: db)
            note.detail = "disabled, \(change.removed) keys removed"
            return held.sorted()
        }
        guard rotatingItsKeys, !heldFields.isEmpty else { return nil }
        return try await rotateKeys(fields: heldFields, batchSize: batchSize, progress: progress)
    }

    /// Changes the unlocked principal's own credential. Its keys stay; only their wrapping changes.
    public func changeCredential(to credential: Credential, kdf: Argon2id.Parameters = .interactive) async throws {
        guard kdf.isWithinAcceptedRange else { throw VaultError.invalidInput("Argon2id parameters are outside the accepted range") }
        let parameters = CredentialParameters.fresh(for: credential, argon2: kdf)
        let kek = try parameters.deriveKEK(from: credential, principal: principal)
        let check = try CredentialParameters.check(kek: kek)
        try await perform(AccessRequest(.credentialChange)) { [secrets, vaultIDBytes, principal] db, note in
            note.target = "principal:\(principal)"
            let record = try PrincipalRecord.fetch(db, name: principal)
            let version = record.credentialVersion + 1
            let wrapped = try secrets.wrap(kek: kek, associatedData: PrincipalSecrets.associatedData(
                vaultID: vaultIDBytes, principal: principal, credentialVersion: version))
            try db.execute(sql: """
                UPDATE principals SET credential_kind = ?, kdf_salt = ?, kdf_ops = ?, kdf_mem = ?, credential_check = ?,
                                      wrapped_secrets = ?, credential_version = ? WHERE id = ?
                """, arguments: [parameters.kind.rawValue, Data(parameters.salt), parameters.argon2.map { Int64($0.opsLimit) },
                                 parameters.argon2.map { Int64($0.memLimit) }, Data(check), Data(wrapped), version, record.id])
            note.detail = "credential changed to \(parameters.kind.rawValue), version \(version)"
        }
    }

    /// Replaces the policy in force and re-provisions every principal's keyring to match it, in one
    /// transaction: either all of it applies or none does.
    ///
    /// - Returns: The keys added and removed per principal.
    /// - Throws: ``VaultError`` `.invalidInput` when a principal's role is missing from the new
    ///   policy or the applying principal's role would stop being a key custodian.
    public func applyPolicy(_ newPolicy: Policy) async throws -> [KeyringChange] {
        try await requireAllowed(AccessRequest(.principalsManage))
        guard newPolicy.role(role)?.isKeyCustodian == true else {
            throw VaultError.invalidInput("the new policy must keep role \(role) (yours) allowed principals.manage, or no one could apply another")
        }
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: keyring)
        let signature = try VaultMeta.signPolicy(newPolicy.source, vaultID: vaultIDBytes, root: provisioner.root)
        return try await perform(AccessRequest(.principalsManage)) { db, note in
            note.target = "policy"
            let principals = try PrincipalRecord.fetchAll(db)
            let orphans = principals.filter { !$0.disabled && newPolicy.role($0.role) == nil }
            guard orphans.isEmpty else {
                throw VaultError.invalidInput("the new policy has no role for principal(s) \(orphans.map { "\($0.name) (\($0.role))" }.joined(separator: ", ")); disable them or keep their roles")
            }
            try db.execute(sql: "UPDATE vault_meta SET value = ? WHERE name = 'policy'", arguments: [Data(newPolicy.source.utf8)])
            try db.execute(sql: "UPDATE vault_meta SET value = ? WHERE name = 'policy_signature'", arguments: [Data(signature)])
            let changes = try principals.map { try provisioner.provision($0, role: newPolicy.role($0.role), db: db) }
            note.detail = "policy applied: " + changes.map { "\($0.principal) +\($0.added)/-\($0.removed)" }.joined(separator: ", ")
            return changes
        }
    }
}

extension CustomerVault {
    /// Parses `yaml` against the vault's schema, then applies it (see ``applyPolicy(_:)``).
    public func applyPolicy(yaml: String, fileName: String) async throws -> [KeyringChange] {
        try await applyPolicy(Policy.load(yaml: yaml, schema: schema, fileName: fileName))
    }
}
