import Foundation
import VaultSQLite
public import VaultCrypto
import VaultCore
import VaultStore

extension CustomerVault {
    /// Creates a vault file with its first principal, an administrator (a key custodian).
    ///
    /// - Parameters:
    ///   - path: Where to create the SQLite file. An existing file is never overwritten.
    ///   - schema: The fields to store; it is kept inside the vault.
    ///   - policy: The access policy (default: the shipped `policies/default.yaml`); its `admin` role
    ///     must allow `principals.manage`.
    ///   - administrator: Name of the first principal (role `admin`).
    ///   - credential: Its passphrase or key file.
    ///   - kdf: Argon2id cost for passphrases; at least ``Argon2id/Parameters/interactive``.
    /// - Throws: ``VaultError`` (`.conflict` when the file exists, `.invalidInput` for weak parameters
    ///   or a policy without a custodian `admin` role).
    public static func create(at path: String, schema: Schema, policy: Policy? = nil, administrator: String, credential: Credential,
                              kdf: Argon2id.Parameters = .interactive) async throws -> CustomerVault {
        try PrincipalRecord.validateName(administrator)
        guard kdf.isWithinAcceptedRange else {
            throw VaultError.invalidInput("Argon2id parameters must be between the INTERACTIVE preset and the accepted maximum")
        }
        let policy = try policy ?? Policy.shippedDefault(schema: schema)
        guard policy.role(administratorRole)?.isKeyCustodian == true else {
            throw VaultError.invalidInput("the policy must define role \(administratorRole) allowing principals.manage (the first principal's role)")
        }
        let store = try SQLiteStore.create(path: path)
        let vaultID = SecureRandom.bytes(16)
        let root = try Ed25519.KeyPair.generate()
        let secrets = try PrincipalSecrets.generate(rootSigningPublicKey: root.publicKey)
        var keys = try KeyProvisioner.generateFieldKeys(schema: schema)
        keys[KeyScope(field: KeyScope.vaultWide, purpose: .root, version: 1)] = root.seed
        keys[KeyScope(field: KeyScope.vaultWide, purpose: .audit, version: 1)] = try SecretBytes(randomCount: 32)
        keys[BackupKey.scope] = try SecretBytes(randomCount: 32)
        let recordKey = try SecretBytes(randomCount: 32)
        keys[RecordIntegrity.scope] = recordKey
        var record = try PrincipalRecord.make(
            name: administrator, role: administratorRole, credential: credential, kdf: kdf, secrets: secrets, vaultID: vaultID)
        try record.certify(vaultID: vaultID, root: root)
        let generated = keys
        let custodian = Keyring(keys: keys, existingScopes: [])
        let provisioner = try KeyProvisioner(vaultID: vaultID, schema: schema, custodian: custodian)
        let policySignature = try VaultMeta.signPolicy(policy.source, vaultID: vaultID, root: root)
        let schemaSignature = try VaultMeta.signSchema(schema.source, vaultID: vaultID, root: root)
        let context = PrincipalContext(name: administrator, role: administratorRole, attributes: [:])
        let requirement = KeyRequirement(role: policy.role(administratorRole), schema: schema)
        do {
            let snapshot = try await store.write { [record] tx in
                let now = Timestamps.now()
                for (name, value) in [("vault_id", vaultID), ("format", Array("1".utf8)), ("schema", Array(schema.source.utf8)),
                                      ("root_sign_public_key", root.publicKey), ("created_at", Array(now.utf8)),
                                      ("policy", Array(policy.source.utf8)), ("policy_signature", policySignature),
                                      ("schema_signature", schemaSignature)] {
                    try tx.insertMeta(name: name, value: value)
                }
                try VaultMeta.recordPolicy(policy.source, signature: policySignature, in: tx)
                var stored = record
                stored.id = try tx.insertPrincipal(record)
                try KeyProvisioner.recordKeys(generated, integrity: RecordIntegrity(key: recordKey, vaultID: vaultID), in: tx, now: now)
                let change = try provisioner.provision(stored, role: policy.role(administratorRole), in: tx)
                let keyring = try KeyState.load(principal: administrator, secrets: secrets, vaultID: vaultID, requirement: requirement, in: tx)
                try AuditTrail(vaultID: vaultID, signer: secrets.signingKeyPair).append(AuditEntry(
                    at: now, principal: administrator, role: administratorRole, action: VaultAction.vaultInit.rawValue,
                    purpose: nil, target: "vault:\(Hex.encode(vaultID))", fields: [], outcome: .allowed,
                    detail: "created with \(change.added) keys granted to \(administrator); \(Self.integrityMarker)",
                    policyHash: AuditChain.policyHash(policy.source)), to: tx)
                return KeyState.Snapshot(epoch: try tx.dataKeyEpoch(), keyring: keyring, sessions: .none)
            }
            let keys = KeyState(snapshot, principal: administrator, role: administratorRole, attributes: [:], secrets: secrets, vaultID: vaultID)
            return CustomerVault(path: path, store: store, context: context, schema: schema, policy: policy,
                                 vaultID: vaultID, keys: keys, secrets: secrets)
        } catch {
            try? store.close()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw vaultError(from: error)
        }
    }

    /// The role of the first principal of every vault.
    public static let administratorRole = "admin"

    /// Said by the `vault.init` entry of every vault made with record integrity tags: such a vault
    /// never needs the upgrade of an older one, so a schema signature missing from it was removed.
    static let integrityMarker = "record integrity tags"

    /// Unlocks a vault as `principal`. A vault made by an older release is first brought to the
    /// current layout (``MigrationProgress`` reports the steps that move data; each step is one
    /// transaction: a kill leaves the vault as it was, and the next open starts it again).
    ///
    /// - Throws: ``VaultError`` `.notFound` (no vault or principal), `.badCredential` (wrong
    ///   passphrase or key file), `.accessDenied` (disabled principal), `.integrity` (tampered keys,
    ///   policy or principal record).
    public static func open(at path: String, principal: String, credential: Credential,
                            migrationProgress: (@Sendable (MigrationProgress) -> Void)? = nil) async throws -> CustomerVault {
        try await open(at: path, principal: principal, credential: credential, derived: nil, migrationProgress: migrationProgress)
    }

    /// ``open(at:principal:credential:)``, using `derived` as the principal's KEK when it was
    /// derived from exactly the parameters stored for it (the restore derives it beside its checks).
    static func open(at path: String, principal: String, credential: Credential, derived: (parameters: CredentialParameters, kek: SecretBytes)?,
                     migrationProgress: (@Sendable (MigrationProgress) -> Void)? = nil) async throws -> CustomerVault {
        var progress: (@Sendable (String, Int, Int) -> Void)?
        if let migrationProgress {
            progress = { step, done, total in migrationProgress(MigrationProgress(step: step, done: done, total: total)) }
        }
        let store = try SQLiteStore.open(path: path, progress: progress)
        do {
            let loaded = try await store.read { tx in (try VaultMeta.load(tx), try tx.requirePrincipal(named: principal)) }
            let (meta, record) = loaded
            let kek = try derived.flatMap { $0.parameters == record.parameters ? $0.kek : nil }
                ?? record.parameters.deriveKEK(from: credential, principal: principal)
            let secrets = try record.unlock(kek: kek, vaultID: meta.vaultID)
            guard secrets.rootSigningPublicKey == meta.rootSigningPublicKey else {
                throw VaultError.integrity("the vault's root signing key does not match the one pinned for principal \(principal)")
            }
            try record.verifyCertificate(vaultID: meta.vaultID, rootPublicKey: secrets.rootSigningPublicKey, legacy: !meta.isCurrent)
            // The disabled state is checked once the certificate that holds it has verified.
            guard !record.disabled else { throw VaultError.accessDenied("principal \(principal) is disabled") }
            // A principal, or the policy, put back in the file to a state the access log moved past.
            try await store.read { tx in
                try AuditFacts.checkPrincipal(record, in: tx, vaultID: meta.vaultID, rootPublicKey: meta.rootSigningPublicKey)
                try AuditFacts.checkPolicy(meta.policy, in: tx, vaultID: meta.vaultID, rootPublicKey: meta.rootSigningPublicKey)
            }
            let requirement = KeyRequirement(role: meta.policy.role(record.role), schema: meta.schema)
            let (keyring, epoch) = try await store.read { tx in
                (try KeyState.load(principal: principal, secrets: secrets, vaultID: meta.vaultID, requirement: requirement, in: tx),
                 try tx.dataKeyEpoch())
            }
            if !meta.isCurrent && !keyring.isCustodian {
                throw VaultError(.unsupported, "this vault was made by an older cvault and is not yet upgraded to record integrity tags; "
                    + "a key custodian must open it once (any command), then try again", remedy: .custodianOpen)
            }
            logger.debug("unlocked", metadata: ["principal": "\(principal)", "vault": "\(Hex.encode(meta.vaultID))", "keys": "\(keyring.scopes.count)"])
            let context = PrincipalContext(name: principal, role: record.role, attributes: record.attributes)
            let vault = CustomerVault(path: path, store: store, context: context, schema: meta.schema, policy: meta.policy,
                                      vaultID: meta.vaultID,
                                      keys: KeyState(KeyState.Snapshot(epoch: epoch, keyring: keyring, sessions: .none), principal: principal,
                                                     role: record.role, attributes: record.attributes, secrets: secrets, vaultID: meta.vaultID),
                                      secrets: secrets)
            if !meta.isCurrent { try await vault.upgradeFormat() }
            // Write sessions (for fields the principal writes but cannot read) start with its first
            // request that may write (`Gate.perform`), so a lookup writes nothing for them.
            return vault
        } catch {
            try? store.close()
            throw vaultError(from: error)
        }
    }

    /// Closes the database connections. The vault must not be used afterwards.
    public func close() throws {
        try gate.close()
    }

    /// Copies everything in the write-ahead log into the database file and truncates the log.
    public func checkpoint() async throws {
        try await gate.checkpoint()
    }
}

/// How far a migration that moves data is (opening a vault made by an older release).
public struct MigrationProgress: Sendable, Equatable {
    /// What is being done, e.g. "moving 500000 sealed values into their records' rows".
    public var step: String
    public var done: Int
    public var total: Int
}
