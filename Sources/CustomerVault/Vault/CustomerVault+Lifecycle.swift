import Foundation
import GRDB
public import VaultCrypto

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
        let pool = try VaultDatabase.create(path: path)
        let vaultID = SecureRandom.bytes(16)
        let root = try Ed25519.KeyPair.generate()
        let secrets = try PrincipalSecrets.generate(rootSigningPublicKey: root.publicKey)
        var keys = try KeyProvisioner.generateFieldKeys(schema: schema)
        keys[KeyScope(field: KeyScope.vaultWide, purpose: .root, version: 1)] = root.seed
        keys[KeyScope(field: KeyScope.vaultWide, purpose: .audit, version: 1)] = try SecretBytes(randomCount: 32)
        keys[BackupKey.scope] = try SecretBytes(randomCount: 32)
        var record = try PrincipalRecord.make(
            name: administrator, role: administratorRole, credential: credential, kdf: kdf, secrets: secrets, vaultID: vaultID)
        try record.certify(vaultID: vaultID, root: root)
        let generated = keys
        let custodian = Keyring(keys: keys, existingScopes: [])
        let provisioner = try KeyProvisioner(vaultID: vaultID, schema: schema, custodian: custodian)
        let policySignature = try VaultMeta.signPolicy(policy.source, vaultID: vaultID, root: root)
        let context = PrincipalContext(name: administrator, role: administratorRole, attributes: [:])
        do {
            let snapshot = try await pool.write { [record] db in
                let now = Timestamps.now()
                for (name, value) in [("vault_id", Data(vaultID)), ("format", Data("1".utf8)), ("schema", Data(schema.source.utf8)),
                                      ("root_sign_public_key", Data(root.publicKey)), ("created_at", Data(now.utf8)),
                                      ("policy", Data(policy.source.utf8)), ("policy_signature", Data(policySignature))] {
                    try db.execute(sql: "INSERT INTO vault_meta (name, value) VALUES (?, ?)", arguments: [name, value])
                }
                var stored = record
                stored.id = try record.insert(db)
                try KeyProvisioner.recordKeys(generated, db: db, now: now)
                let change = try provisioner.provision(stored, role: policy.role(administratorRole), db: db)
                let keyring = try KeyState.load(principal: administrator, secrets: secrets, vaultID: vaultID, db: db)
                try AuditTrail(vaultID: vaultID, signer: secrets.signingKeyPair).append(AuditEntry(
                    at: now, principal: administrator, role: administratorRole, action: VaultAction.vaultInit.rawValue,
                    purpose: nil, target: "vault:\(Hex.encode(vaultID))", fields: [], outcome: .allowed,
                    detail: "created with \(change.added) keys granted to \(administrator)",
                    policyHash: AuditTrail.policyHash(policy.source)), in: db)
                return KeyState.Snapshot(epoch: try KeyState.epoch(db), keyring: keyring, sessions: .none)
            }
            let keys = KeyState(snapshot, principal: administrator, secrets: secrets, vaultID: vaultID)
            return CustomerVault(path: path, pool: pool, context: context, schema: schema, policy: policy, vaultID: vaultID,
                                 keys: keys, secrets: secrets)
        } catch {
            try? pool.close()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw vaultError(from: error)
        }
    }

    /// The role of the first principal of every vault.
    public static let administratorRole = "admin"

    /// Verifies and opens every key grant made to a principal.
    static func openGrants(of record: PrincipalRecord, secrets: PrincipalSecrets, vaultID: [UInt8], db: Database) throws -> [KeyScope: SecretBytes] {
        var keys: [KeyScope: SecretBytes] = [:]
        for grant in try record.fetchGrants(db) {
            keys[grant.scope] = try grant.open(principal: record.name, secrets: secrets, vaultID: vaultID)
        }
        return keys
    }

    /// Unlocks a vault as `principal`.
    ///
    /// - Throws: ``VaultError`` `.notFound` (no vault or principal), `.badCredential` (wrong
    ///   passphrase or key file), `.accessDenied` (disabled principal), `.integrity` (tampered keys,
    ///   policy or principal record).
    public static func open(at path: String, principal: String, credential: Credential) async throws -> CustomerVault {
        try await open(at: path, principal: principal, credential: credential, derived: nil)
    }

    /// ``open(at:principal:credential:)``, using `derived` as the principal's KEK when it was
    /// derived from exactly the parameters stored for it (the restore derives it beside its checks).
    static func open(at path: String, principal: String, credential: Credential,
                     derived: (parameters: CredentialParameters, kek: SecretBytes)?) async throws -> CustomerVault {
        let pool = try VaultDatabase.open(path: path)
        do {
            let loaded = try await pool.read { db in
                (try VaultMeta.load(db), try PrincipalRecord.fetch(db, name: principal))
            }
            let (meta, record) = loaded
            let kek = try derived.flatMap { $0.parameters == record.parameters ? $0.kek : nil }
                ?? record.parameters.deriveKEK(from: credential, principal: principal)
            let secrets = try record.unlock(kek: kek, vaultID: meta.vaultID)
            guard secrets.rootSigningPublicKey == meta.rootSigningPublicKey else {
                throw VaultError.integrity("the vault's root signing key does not match the one pinned for principal \(principal)")
            }
            try record.verifyCertificate(vaultID: meta.vaultID, rootPublicKey: secrets.rootSigningPublicKey)
            let (keyring, epoch) = try await pool.read { db in
                (try KeyState.load(principal: principal, secrets: secrets, vaultID: meta.vaultID, db: db), try KeyState.epoch(db))
            }
            // Only principals that write fields they cannot read need write sessions (and a write).
            let sessions = WriteSessions.writeOnlyScopes(keyring).isEmpty ? .none : try await pool.write { db in
                try WriteSessions.start(principal: record, signer: secrets.signingKeyPair, keyring: keyring, vaultID: meta.vaultID, db: db)
            }
            logger.info("unlocked", metadata: ["principal": "\(principal)", "vault": "\(Hex.encode(meta.vaultID))", "keys": "\(keyring.scopes.count)"])
            let context = PrincipalContext(name: principal, role: record.role, attributes: record.attributes)
            return CustomerVault(path: path, pool: pool, context: context, schema: meta.schema, policy: meta.policy,
                                 vaultID: meta.vaultID,
                                 keys: KeyState(KeyState.Snapshot(epoch: epoch, keyring: keyring, sessions: sessions), principal: principal,
                                                secrets: secrets, vaultID: meta.vaultID),
                                 secrets: secrets)
        } catch {
            try? pool.close()
            throw vaultError(from: error)
        }
    }

    /// Closes the database connections. The vault must not be used afterwards.
    public func close() throws {
        try pool.close()
    }

    /// Copies everything in the write-ahead log into the database file and truncates the log.
    public func checkpoint() async throws {
        _ = try await pool.writeWithoutTransaction { db in
            try db.checkpoint(.truncate)
        }
    }
}

/// The vault-wide facts stored in `vault_meta`.
struct VaultMeta: Sendable {
    var vaultID: [UInt8]
    var schema: Schema
    var rootSigningPublicKey: [UInt8]
    /// Verified against the root key stored beside it; `open` then checks that key against the pin.
    var policy: Policy

    static func policyMessage(_ text: String, vaultID: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.policy.v1")
        writer.append(vaultID)
        writer.append(text)
        return writer.bytes
    }

    static func signPolicy(_ text: String, vaultID: [UInt8], root: Ed25519.KeyPair) throws -> [UInt8] {
        try Ed25519.sign(policyMessage(text, vaultID: vaultID), with: root)
    }

    static func load(_ db: Database) throws -> VaultMeta {
        var values: [String: Data] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, value FROM vault_meta") {
            values[row["name"]] = row["value"]
        }
        guard let format = values["format"].map({ String(decoding: $0, as: UTF8.self) }) else {
            throw VaultError.integrity("the vault has no format marker")
        }
        guard format == "1" else {
            throw VaultError(.unsupported, "vault format \(format) is newer than this cvault supports (1)")
        }
        guard let id = values["vault_id"], id.count == 16,
              let schemaText = values["schema"].flatMap({ String(data: $0, encoding: .utf8) }),
              let root = values["root_sign_public_key"], root.count == 32 else {
            throw VaultError.integrity("the vault's metadata is incomplete or corrupt")
        }
        let schema: Schema
        do {
            schema = try Schema.load(yaml: schemaText, fileName: "stored schema")
        } catch {
            throw VaultError.integrity("the schema stored in the vault does not parse")
        }
        guard let policyText = values["policy"].flatMap({ String(data: $0, encoding: .utf8) }), let signature = values["policy_signature"],
              Ed25519.isValid(signature: [UInt8](signature), for: policyMessage(policyText, vaultID: [UInt8](id)), publicKey: [UInt8](root)) else {
            throw VaultError.integrity("the vault's policy is missing or its signature does not verify (altered in the file?)")
        }
        let policy: Policy
        do {
            policy = try Policy.load(yaml: policyText, schema: schema, fileName: "stored policy")
        } catch {
            throw VaultError.integrity("the policy stored in the vault does not parse against its schema")
        }
        return VaultMeta(vaultID: [UInt8](id), schema: schema, rootSigningPublicKey: [UInt8](root), policy: policy)
    }
}
