import Foundation
import GRDB
import VaultCrypto

/// A principal as stored in the `principals` table.
struct PrincipalRecord: Sendable {
    var id: Int64?
    var name: String
    var role: String
    /// Attributes compared by row conditions (`regions` → `EU,UK`).
    var attributes: [String: String]
    var boxPublicKey: [UInt8]
    var signPublicKey: [UInt8]
    var parameters: CredentialParameters
    var credentialCheck: [UInt8]
    var wrappedSecrets: [UInt8]
    var credentialVersion: UInt32
    var disabled: Bool
    /// The root key's signature over ``certifiedMessage(vaultID:)``.
    var certificate: [UInt8]?

    static func validateName(_ name: String) throws {
        guard name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"#, options: .regularExpression) != nil else {
            throw VaultError.invalidInput("principal names are 1 to 64 letters, digits, '.', '_' or '-'")
        }
    }

    /// Wraps freshly generated secrets under a new credential.
    static func validateAttributes(_ attributes: [String: String]) throws {
        guard attributes.count <= 32 else { throw VaultError.invalidInput("at most 32 attributes per principal") }
        for (key, value) in attributes {
            guard key.range(of: #"^[a-z][a-z0-9_]{0,31}$"#, options: .regularExpression) != nil else {
                throw VaultError.invalidInput("attribute names are lower-case letters, digits and '_' (got an invalid one)")
            }
            guard value.utf8.count <= 256, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw VaultError.invalidInput("attribute \(key): values are at most 256 bytes of printable text")
            }
        }
    }

    static func make(name: String, role: String, attributes: [String: String] = [:], credential: Credential, kdf: Argon2id.Parameters,
                     secrets: PrincipalSecrets, vaultID: [UInt8]) throws -> PrincipalRecord {
        let parameters = CredentialParameters.fresh(for: credential, argon2: kdf)
        let kek = try parameters.deriveKEK(from: credential, principal: name)
        let wrapped = try secrets.wrap(kek: kek, associatedData: PrincipalSecrets.associatedData(vaultID: vaultID, principal: name, credentialVersion: 1))
        return PrincipalRecord(
            id: nil, name: name, role: role, attributes: attributes, boxPublicKey: secrets.boxKeyPair.publicKey,
            signPublicKey: secrets.signingKeyPair.publicKey, parameters: parameters,
            credentialCheck: try CredentialParameters.check(kek: kek), wrappedSecrets: wrapped,
            credentialVersion: 1, disabled: false, certificate: nil)
    }

    /// What the root key certifies about a principal: who it is, its role, attributes and keys.
    func certifiedMessage(vaultID: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.principal-certificate.v1")
        writer.append(vaultID)
        writer.append(name)
        writer.append(role)
        writer.append(FlatJSON.encode(attributes))
        writer.append(boxPublicKey)
        writer.append(signPublicKey)
        return writer.bytes
    }

    mutating func certify(vaultID: [UInt8], root: Ed25519.KeyPair) throws {
        certificate = try Ed25519.sign(certifiedMessage(vaultID: vaultID), with: root)
    }

    /// Refuses a principal whose role, attributes or public keys were changed in the file.
    func verifyCertificate(vaultID: [UInt8], rootPublicKey: [UInt8]) throws {
        guard let certificate, Ed25519.isValid(signature: certificate, for: certifiedMessage(vaultID: vaultID), publicKey: rootPublicKey) else {
            throw VaultError.integrity("principal \(name): its certificate does not verify (role, attributes or keys were altered)")
        }
    }

    func insert(_ db: Database) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO principals (name, role, attributes, box_public_key, sign_public_key, credential_kind, kdf_salt, kdf_ops,
                                        kdf_mem, credential_check, wrapped_secrets, credential_version, certificate, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [name, role, FlatJSON.encode(attributes), Data(boxPublicKey), Data(signPublicKey), parameters.kind.rawValue, Data(parameters.salt),
                        parameters.argon2.map { Int64($0.opsLimit) }, parameters.argon2.map { Int64($0.memLimit) },
                        Data(credentialCheck), Data(wrappedSecrets), credentialVersion, certificate.map { Data($0) },
                        Timestamps.now()])
        return db.lastInsertedRowID
    }

    static func fetch(_ db: Database, name: String) throws -> PrincipalRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM principals WHERE name = ?", arguments: [name]) else {
            throw VaultError.notFound("no principal named \(name) in this vault")
        }
        return try decode(row)
    }

    static func fetchAll(_ db: Database) throws -> [PrincipalRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM principals ORDER BY name").map(decode)
    }

    static func fetch(_ db: Database, id: Int64) throws -> PrincipalRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM principals WHERE id = ?", arguments: [id]) else {
            throw VaultError.integrity("a record refers to principal \(id), which does not exist")
        }
        return try decode(row)
    }

    private static func decode(_ row: Row) throws -> PrincipalRecord {
        let name: String = row["name"]
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
            attributes: try RecordCodec.decodeAttributes(row["attributes"], entity: nil, id: row["id"]),
            boxPublicKey: [UInt8](row["box_public_key"] as Data), signPublicKey: [UInt8](row["sign_public_key"] as Data),
            parameters: CredentialParameters(kind: kind, salt: [UInt8](row["kdf_salt"] as Data), argon2: argon2),
            credentialCheck: [UInt8](row["credential_check"] as Data), wrappedSecrets: [UInt8](row["wrapped_secrets"] as Data),
            credentialVersion: UInt32(version), disabled: row["disabled"], certificate: (row["certificate"] as Data?).map { [UInt8]($0) })
    }

    /// Derives the KEK, tells a wrong credential from a corrupt record, and opens the secrets.
    func unlock(credential: Credential, vaultID: [UInt8]) throws -> PrincipalSecrets {
        try unlock(kek: try parameters.deriveKEK(from: credential, principal: name), vaultID: vaultID)
    }

    /// ``unlock(credential:vaultID:)`` with the KEK already derived from this record's parameters.
    func unlock(kek: SecretBytes, vaultID: [UInt8]) throws -> PrincipalSecrets {
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
