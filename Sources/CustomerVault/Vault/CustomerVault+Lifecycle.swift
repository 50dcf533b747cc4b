import Foundation
import GRDB
public import VaultCrypto

extension CustomerVault {
    /// Creates a vault file with its first principal, an administrator holding every key.
    ///
    /// - Parameters:
    ///   - path: Where to create the SQLite file. An existing file is never overwritten.
    ///   - schema: The fields to store; it is kept inside the vault.
    ///   - administrator: Name of the first principal (role `admin`).
    ///   - credential: Its passphrase or key file.
    ///   - kdf: Argon2id cost for passphrases; at least ``Argon2id/Parameters/interactive``.
    /// - Throws: ``VaultError`` (`.conflict` when the file exists, `.invalidInput` for weak parameters).
    public static func create(at path: String, schema: Schema, administrator: String, credential: Credential,
                              kdf: Argon2id.Parameters = .interactive) async throws -> CustomerVault {
        try PrincipalRecord.validateName(administrator)
        guard kdf.isWithinAcceptedRange else {
            throw VaultError.invalidInput("Argon2id parameters must be between the INTERACTIVE preset and the accepted maximum")
        }
        let pool = try VaultDatabase.create(path: path)
        let vaultID = SecureRandom.bytes(16)
        let root = try Ed25519.KeyPair.generate()
        let secrets = try PrincipalSecrets.generate(rootSigningPublicKey: root.publicKey)
        var keys: [KeyScope: SecretBytes] = [KeyScope(field: KeyScope.vaultWide, purpose: .root, version: 1): root.seed]
        for entity in Entity.allCases {
            for field in schema.personalFields(of: entity) {
                let name = KeyScope.fieldName(entity, field.name)
                keys[KeyScope(field: name, purpose: .seal, version: 1)] = try SecretBytes(randomCount: 32)
                if field.mask != nil {
                    keys[KeyScope(field: name, purpose: .mask, version: 1)] = try SecretBytes(randomCount: 32)
                }
                if field.search != nil {
                    keys[KeyScope(field: name, purpose: .index, version: 1)] = try SecretBytes(randomCount: 32)
                }
            }
        }
        let record = try PrincipalRecord.make(
            name: administrator, role: PolicyDecisionPoint.administratorRole, credential: credential,
            kdf: kdf, secrets: secrets, vaultID: vaultID)
        let grantedKeys = keys
        let keyring = Keyring(keys: keys, existingScopes: [])
        let vault = CustomerVault(path: path, pool: pool, principal: administrator, role: PolicyDecisionPoint.administratorRole,
                                  schema: schema, vaultID: vaultID, keyring: keyring, secrets: secrets)
        do {
            try await pool.write { db in
                let now = Timestamps.now()
                for (name, value) in [("vault_id", Data(vaultID)), ("format", Data("1".utf8)), ("schema", Data(schema.source.utf8)),
                                      ("root_sign_public_key", Data(root.publicKey)), ("created_at", Data(now.utf8))] {
                    try db.execute(sql: "INSERT INTO vault_meta (name, value) VALUES (?, ?)", arguments: [name, value])
                }
                let principalID = try record.insert(db)
                for (scope, key) in grantedKeys {
                    try db.execute(sql: "INSERT INTO data_keys (field, purpose, version, created_at) VALUES (?, ?, ?, ?)",
                                   arguments: [scope.field, scope.purpose.rawValue, scope.version, now])
                    let grant = try KeyGrant.issue(key: key, scope: scope, to: administrator, boxPublicKey: record.boxPublicKey,
                                                   vaultID: vaultID, root: root)
                    try db.execute(sql: "INSERT INTO key_grants (principal_id, key_id, sealed_key, signature) VALUES (?, ?, ?, ?)",
                                   arguments: [principalID, db.lastInsertedRowID, Data(grant.sealedKey), Data(grant.signature)])
                }
                try vault.audit.append(AuditEntry(
                    at: now, principal: administrator, role: PolicyDecisionPoint.administratorRole, action: VaultAction.vaultInit.rawValue,
                    purpose: nil, target: "vault:\(Hex.encode(vaultID))", fields: [], outcome: .allowed,
                    detail: "created with \(grantedKeys.count) keys"), in: db)
            }
        } catch {
            try? pool.close()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            throw vaultError(from: error)
        }
        return vault
    }

    /// Unlocks a vault as `principal`.
    ///
    /// - Throws: ``VaultError`` `.notFound` (no vault or principal), `.badCredential` (wrong
    ///   passphrase or key file), `.accessDenied` (disabled principal), `.integrity` (tampered keys).
    public static func open(at path: String, principal: String, credential: Credential) async throws -> CustomerVault {
        let pool = try VaultDatabase.open(path: path)
        do {
            let loaded = try await pool.read { db in
                (try VaultMeta.load(db), try PrincipalRecord.fetch(db, name: principal))
            }
            let (meta, record) = loaded
            let secrets = try record.unlock(credential: credential, vaultID: meta.vaultID)
            guard secrets.rootSigningPublicKey == meta.rootSigningPublicKey else {
                throw VaultError.integrity("the vault's root signing key does not match the one pinned for principal \(principal)")
            }
            let (grants, existing) = try await pool.read { db in (try record.fetchGrants(db), try KeyScope.fetchExisting(db)) }
            var keys: [KeyScope: SecretBytes] = [:]
            for grant in grants {
                keys[grant.scope] = try grant.open(principal: principal, secrets: secrets, vaultID: meta.vaultID)
            }
            logger.info("unlocked", metadata: ["principal": "\(principal)", "vault": "\(Hex.encode(meta.vaultID))", "keys": "\(keys.count)"])
            return CustomerVault(path: path, pool: pool, principal: principal, role: record.role, schema: meta.schema,
                                 vaultID: meta.vaultID, keyring: Keyring(keys: keys, existingScopes: existing), secrets: secrets)
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
        return VaultMeta(vaultID: [UInt8](id), schema: schema, rootSigningPublicKey: [UInt8](root))
    }
}
