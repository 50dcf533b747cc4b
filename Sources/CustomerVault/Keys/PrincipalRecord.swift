import Foundation
import GRDB
import VaultCrypto

/// A principal as stored in the `principals` table.
struct PrincipalRecord: Sendable {
    var id: Int64?
    var name: String
    var role: String
    var boxPublicKey: [UInt8]
    var signPublicKey: [UInt8]
    var parameters: CredentialParameters
    var credentialCheck: [UInt8]
    var wrappedSecrets: [UInt8]
    var credentialVersion: UInt32
    var disabled: Bool

    static func validateName(_ name: String) throws {
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"#, options: .regularExpression) != nil else {
            throw VaultError.invalidInput("principal names are 1 to 64 letters, digits, '.', '_' or '-'")
        }
    }

    /// Wraps freshly generated secrets under a new credential.
    static func make(name: String, role: String, credential: Credential, kdf: Argon2id.Parameters,
                     secrets: PrincipalSecrets, vaultID: [UInt8]) throws -> PrincipalRecord {
        let parameters = CredentialParameters.fresh(for: credential, argon2: kdf)
        let kek = try parameters.deriveKEK(from: credential, principal: name)
        let wrapped = try secrets.wrap(kek: kek, associatedData: PrincipalSecrets.associatedData(vaultID: vaultID, principal: name, credentialVersion: 1))
        return PrincipalRecord(
            id: nil, name: name, role: role, boxPublicKey: secrets.boxKeyPair.publicKey,
            signPublicKey: secrets.signingKeyPair.publicKey, parameters: parameters,
            credentialCheck: try CredentialParameters.check(kek: kek), wrappedSecrets: wrapped,
            credentialVersion: 1, disabled: false)
    }

    func insert(_ db: Database) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO principals (name, role, box_public_key, sign_public_key, credential_kind, kdf_salt, kdf_ops, kdf_mem,
                                        credential_check, wrapped_secrets, credential_version, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [name, role, Data(boxPublicKey), Data(signPublicKey), parameters.kind.rawValue, Data(parameters.salt),
                        parameters.argon2.map { Int64($0.opsLimit) }, parameters.argon2.map { Int64($0.memLimit) },
                        Data(credentialCheck), Data(wrappedSecrets), credentialVersion, Timestamps.now()])
        return db.lastInsertedRowID
    }

    static func fetch(_ db: Database, name: String) throws -> PrincipalRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM principals WHERE name = ?", arguments: [name]) else {
            throw VaultError.notFound("no principal named \(name) in this vault")
        }
        guard let kind = CredentialKind(rawValue: row["credential_kind"]) else {
            throw VaultError.integrity("principal \(name): unknown credential kind")
        }
        let ops: Int64? = row["kdf_ops"], mem: Int64? = row["kdf_mem"]
        var argon2: Argon2id.Parameters?
        if kind == .passphrase {
            guard let ops, let mem, ops > 0, mem > 0 else { throw VaultError.integrity("principal \(name): missing Argon2id parameters") }
            argon2 = Argon2id.Parameters(opsLimit: UInt64(ops), memLimit: UInt64(mem))
        }
        let version: Int64 = row["credential_version"]
        guard (1...Int64(UInt32.max)).contains(version) else { throw VaultError.integrity("principal \(name): bad credential version") }
        return PrincipalRecord(
            id: row["id"], name: name, role: row["role"],
            boxPublicKey: [UInt8](row["box_public_key"] as Data), signPublicKey: [UInt8](row["sign_public_key"] as Data),
            parameters: CredentialParameters(kind: kind, salt: [UInt8](row["kdf_salt"] as Data), argon2: argon2),
            credentialCheck: [UInt8](row["credential_check"] as Data), wrappedSecrets: [UInt8](row["wrapped_secrets"] as Data),
            credentialVersion: UInt32(version), disabled: row["disabled"])
    }

    /// Derives the KEK, tells a wrong credential from a corrupt record, and opens the secrets.
    func unlock(credential: Credential, vaultID: [UInt8]) throws -> PrincipalSecrets {
        let kek = try parameters.deriveKEK(from: credential, principal: name)
        let associatedData = PrincipalSecrets.associatedData(vaultID: vaultID, principal: name, credentialVersion: credentialVersion)
        guard constantTimeEquals(try CredentialParameters.check(kek: kek), credentialCheck) else {
            // A right credential with a tampered check value still opens the secrets: call that corruption.
            if (try? PrincipalSecrets.unwrap(wrappedSecrets, kek: kek, associatedData: associatedData, principal: name)) != nil {
                throw VaultError.integrity("principal \(name): the stored credential check value is corrupt")
            }
            throw VaultError(.badCredential, "the passphrase or key file does not unlock principal \(name)")
        }
        guard !disabled else { throw VaultError.accessDenied("principal \(name) is disabled") }
        let secrets = try PrincipalSecrets.unwrap(wrappedSecrets, kek: kek, associatedData: associatedData, principal: name)
        guard secrets.boxKeyPair.publicKey == boxPublicKey, secrets.signingKeyPair.publicKey == signPublicKey else {
            throw VaultError.integrity("principal \(name): stored public keys do not match its secrets")
        }
        return secrets
    }

    func fetchGrants(_ db: Database) throws -> [KeyGrant] {
        try Row.fetchAll(db, sql: """
            SELECT k.field, k.purpose, k.version, g.sealed_key, g.signature
            FROM key_grants g JOIN data_keys k ON k.id = g.key_id
            WHERE g.principal_id = ? AND k.retired_at IS NULL
            """, arguments: [id]).map { row in
            guard let purpose = KeyPurpose(rawValue: row["purpose"]) else {
                throw VaultError.integrity("principal \(name): a key grant has an unknown purpose")
            }
            let version: Int64 = row["version"]
            guard (1...Int64(UInt32.max)).contains(version) else { throw VaultError.integrity("principal \(name): a key grant has a bad version") }
            return KeyGrant(scope: KeyScope(field: row["field"], purpose: purpose, version: UInt32(version)),
                            sealedKey: [UInt8](row["sealed_key"] as Data), signature: [UInt8](row["signature"] as Data))
        }
    }
}
