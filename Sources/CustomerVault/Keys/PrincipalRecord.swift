import Foundation
import GRDB
import VaultSQLite
import VaultCrypto
import VaultCore

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
    /// The sequence number of the access-log entry that disabled it: entries it signs after that
    /// are refused by `audit verify`.
    var disabledAtSeq: Int64?
    /// Every version of its key pairs, oldest first (``PrincipalKey``); the last one is current.
    var keys: [PrincipalKey] = []
    /// The version of ``boxPublicKey`` and ``signPublicKey``.
    var keyVersion: UInt32 { keys.last?.version ?? 1 }
    /// `principals.key_version` as read (checked against the chain when the keys are loaded).
    var storedKeyVersion: Int64 = 1

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
            credentialVersion: 1, disabled: false, certificate: nil,
            keys: [PrincipalKey(version: 1, boxPublicKey: secrets.boxKeyPair.publicKey, signPublicKey: secrets.signingKeyPair.publicKey,
                                fromSeq: 1, endorsement: nil)])
    }

    /// What the root key certifies about a principal (format 2): who it is, its role, attributes,
    /// its first key pairs (the anchor of its key chain), and whether it is disabled, since which
    /// access-log entry.
    func certifiedMessage(vaultID: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.principal-certificate.v2")
        writer.append(vaultID)
        writer.append(name)
        writer.append(role)
        writer.append(FlatJSON.encode(attributes))
        writer.append(keys.first?.boxPublicKey ?? [])
        writer.append(keys.first?.signPublicKey ?? [])
        writer.append(disabled ? 1 : 0 as UInt8)
        writer.append(disabledAtSeq ?? 0)
        return writer.bytes
    }

    /// Format 1, written before principals could be disabled by certificate or change keys: it
    /// certified the keys of version 1. Accepted only in a vault not yet upgraded.
    func legacyCertifiedMessage(vaultID: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.principal-certificate.v1")
        writer.append(vaultID)
        writer.append(name)
        writer.append(role)
        writer.append(FlatJSON.encode(attributes))
        writer.append(keys.first?.boxPublicKey ?? [])
        writer.append(keys.first?.signPublicKey ?? [])
        return writer.bytes
    }

    mutating func certify(vaultID: [UInt8], root: Ed25519.KeyPair) throws {
        certificate = try Ed25519.sign(certifiedMessage(vaultID: vaultID), with: root)
    }

    /// Refuses a principal whose role, attributes, disabled state or keys were changed in the file:
    /// the root certificate must verify over its first keys, each later key version must be
    /// endorsed by the one before, and the last must be the keys stored as current.
    ///
    /// - Parameter legacy: Also accept a format-1 certificate (a vault not yet upgraded).
    func verifyCertificate(vaultID: [UInt8], rootPublicKey: [UInt8], legacy: Bool = false) throws {
        let altered = "principal \(name): its certificate does not verify (role, attributes, disabled state or keys were altered in the file)"
        guard let certificate, let anchor = keys.first, anchor.version == 1 else { throw VaultError.integrity(altered) }
        if !Ed25519.isValid(signature: certificate, for: certifiedMessage(vaultID: vaultID), publicKey: rootPublicKey) {
            // A legacy certificate says nothing of the disabled flag; the flag can only restrict.
            guard legacy, disabledAtSeq == nil,
                  Ed25519.isValid(signature: certificate, for: legacyCertifiedMessage(vaultID: vaultID), publicKey: rootPublicKey) else {
                throw VaultError.integrity(altered)
            }
        }
        for (previous, key) in zip(keys, keys.dropFirst()) {
            guard key.version == previous.version + 1, key.fromSeq > previous.fromSeq, let endorsement = key.endorsement,
                  Ed25519.isValid(signature: endorsement, for: key.endorsedMessage(vaultID: vaultID, principal: name),
                                  publicKey: previous.signPublicKey) else {
                throw VaultError.integrity("principal \(name): key version \(key.version) is not endorsed by version \(previous.version) (altered in the file)")
            }
        }
        guard let current = keys.last, current.boxPublicKey == boxPublicKey, current.signPublicKey == signPublicKey else {
            throw VaultError.integrity("principal \(name): its current public keys are not the last of its certified key chain (altered in the file)")
        }
    }

    /// The signing key of the version that signed entries at `seq` (access-log order).
    func signingKey(atSeq seq: Int64) -> [UInt8] {
        (keys.last { $0.fromSeq <= seq } ?? keys.first)?.signPublicKey ?? signPublicKey
    }

    func insert(_ db: Database) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO principals (name, role, attributes, box_public_key, sign_public_key, credential_kind, kdf_salt, kdf_ops,
                                        kdf_mem, credential_check, wrapped_secrets, credential_version, certificate, created_at,
                                        key_version, disabled, disabled_at_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [name, role, FlatJSON.encode(attributes), Data(boxPublicKey), Data(signPublicKey), parameters.kind.rawValue, Data(parameters.salt),
                        parameters.argon2.map { Int64($0.opsLimit) }, parameters.argon2.map { Int64($0.memLimit) },
                        Data(credentialCheck), Data(wrappedSecrets), credentialVersion, certificate.map { Data($0) },
                        Timestamps.now(), keyVersion, disabled, disabledAtSeq])
        let id = db.lastInsertedRowID
        for key in keys { try key.insert(principalID: id, db: db) }
        return id
    }

    static func fetch(_ db: Database, name: String) throws -> PrincipalRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM principals WHERE name = ?", arguments: [name]) else {
            throw VaultError.notFound("no principal named \(name) in this vault")
        }
        return try withKeys(decode(row), db: db)
    }

    static func fetchAll(_ db: Database) throws -> [PrincipalRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM principals ORDER BY name").map { try withKeys(decode($0), db: db) }
    }

    private static func withKeys(_ record: PrincipalRecord, db: Database) throws -> PrincipalRecord {
        var record = record
        let stored = record.storedKeyVersion
        // A vault read as it is on read-only media may predate key versions: its keys are version 1.
        record.keys = try db.tableExists("principal_keys") ? PrincipalKey.fetchAll(principalID: record.id ?? 0, db: db)
            : [PrincipalKey(version: 1, boxPublicKey: record.boxPublicKey, signPublicKey: record.signPublicKey, fromSeq: 1, endorsement: nil)]
        guard stored == Int64(record.keyVersion) else {
            throw VaultError.integrity("principal \(record.name): its key version is not the last of its key chain (altered in the file)")
        }
        return record
    }

    static func fetch(_ db: Database, id: Int64) throws -> PrincipalRecord {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM principals WHERE id = ?", arguments: [id]) else {
            throw VaultError.integrity("a record refers to principal \(id), which does not exist")
        }
        return try withKeys(decode(row), db: db)
    }

    private static func decode(_ row: Row) throws -> PrincipalRecord {
        let name: String = try row.checked("name")
        guard let kind = CredentialKind(rawValue: try row.checked("credential_kind")) else {
            throw VaultError.integrity("principal \(name): unknown credential kind")
        }
        let ops: Int64? = try row.checked("kdf_ops"), mem: Int64? = try row.checked("kdf_mem")
        var argon2: Argon2id.Parameters?
        if kind == .passphrase {
            guard let ops, let mem, ops > 0, mem > 0 else { throw VaultError.integrity("principal \(name): missing Argon2id parameters") }
            argon2 = Argon2id.Parameters(opsLimit: UInt64(ops), memLimit: UInt64(mem))
        }
        let version: Int64 = try row.checked("credential_version")
        guard (1...Int64(UInt32.max)).contains(version) else { throw VaultError.integrity("principal \(name): bad credential version") }
        return PrincipalRecord(
            id: try row.checked("id"), name: name, role: try row.checked("role"),
            attributes: try RecordCodec.decodeAttributes(try row.checked("attributes"), entity: nil, id: try row.checked("id")),
            boxPublicKey: [UInt8](try row.checked("box_public_key") as Data), signPublicKey: [UInt8](try row.checked("sign_public_key") as Data),
            parameters: CredentialParameters(kind: kind, salt: [UInt8](try row.checked("kdf_salt") as Data), argon2: argon2),
            credentialCheck: [UInt8](try row.checked("credential_check") as Data), wrappedSecrets: [UInt8](try row.checked("wrapped_secrets") as Data),
            credentialVersion: UInt32(version), disabled: try row.checked("disabled"), certificate: (try row.checked("certificate") as Data?).map { [UInt8]($0) },
            disabledAtSeq: try row.checked("disabled_at_seq"), storedKeyVersion: try row.checked("key_version") as Int64? ?? 1)
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
        let secrets = try PrincipalSecrets.unwrap(wrappedSecrets, kek: kek, associatedData: associatedData, principal: name)
        guard secrets.boxKeyPair.publicKey == boxPublicKey, secrets.signingKeyPair.publicKey == signPublicKey else {
            throw VaultError.integrity("principal \(name): stored public keys do not match its secrets")
        }
        return secrets
    }

    func fetchGrants(_ db: Database) throws -> [KeyGrant] {
        try Row.fetchAll(db, sql: """
            SELECT k.field, k.purpose, k.version, g.sealed_key, g.signature, g.format
            FROM key_grants g JOIN data_keys k ON k.id = g.key_id
            WHERE g.principal_id = ? AND k.retired_at IS NULL
            """, arguments: [id]).map { row in
            guard let purpose = KeyPurpose(rawValue: try row.checked("purpose")) else {
                throw VaultError.integrity("principal \(name): a key grant has an unknown purpose")
            }
            let version: Int64 = try row.checked("version")
            guard (1...Int64(UInt32.max)).contains(version) else { throw VaultError.integrity("principal \(name): a key grant has a bad version") }
            return KeyGrant(scope: KeyScope(field: try row.checked("field"), purpose: purpose, version: UInt32(version)),
                            sealedKey: [UInt8](try row.checked("sealed_key") as Data), signature: [UInt8](try row.checked("signature") as Data), format: try row.checked("format"))
        }
    }
}

/// One version of a principal's public keys (table `principal_keys`).
///
/// Version 1 is anchored by the root-signed certificate. A credential change makes version n+1
/// with fresh key pairs, endorsed by version n's signing key over (name, version, both public keys,
/// `fromSeq`): the first access-log entry the new signing key signs. `audit verify` accepts an
/// entry only from the key version whose range holds its sequence number, so a signing key that
/// an old credential still opens can sign nothing new.
struct PrincipalKey: Sendable, Equatable {
    var version: UInt32
    var boxPublicKey: [UInt8]
    var signPublicKey: [UInt8]
    var fromSeq: Int64
    var endorsement: [UInt8]?

    func endorsedMessage(vaultID: [UInt8], principal: String) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.principal-keys.v1")
        writer.append(vaultID)
        writer.append(principal)
        writer.append(version)
        writer.append(boxPublicKey)
        writer.append(signPublicKey)
        writer.append(fromSeq)
        return writer.bytes
    }

    static func fetchAll(principalID: Int64, db: Database) throws -> [PrincipalKey] {
        try Row.fetchAll(db, sql: """
            SELECT version, box_public_key, sign_public_key, from_seq, endorsement FROM principal_keys WHERE principal_id = ? ORDER BY version
            """, arguments: [principalID]).map { row in
            let version: Int64 = try row.checked("version")
            guard (1...Int64(UInt32.max)).contains(version) else { throw VaultError.integrity("principal \(principalID): a key version is out of range") }
            return PrincipalKey(version: UInt32(version), boxPublicKey: [UInt8](try row.checked("box_public_key") as Data),
                                signPublicKey: [UInt8](try row.checked("sign_public_key") as Data), fromSeq: try row.checked("from_seq"),
                                endorsement: (try row.checked("endorsement") as Data?).map { [UInt8]($0) })
        }
    }

    func insert(principalID: Int64, db: Database) throws {
        try db.execute(sql: """
            INSERT INTO principal_keys (principal_id, version, box_public_key, sign_public_key, from_seq, endorsement) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [principalID, version, Data(boxPublicKey), Data(signPublicKey), fromSeq, endorsement.map { Data($0) }])
    }
}
