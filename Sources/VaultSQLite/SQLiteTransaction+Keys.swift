import Foundation
import GRDB
package import VaultCore
import VaultCrypto
package import VaultStore

/// A `principals` row, decoded with the types cvault stores (its key chain is read separately).
struct PrincipalRow: FetchableRecord {
    let record: PrincipalRecord

    init(row: Row) throws {
        let name: String = try row.checked("name"), id: Int64 = try row.checked("id")
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
        guard let attributes = FlatJSON.decode(try row.checked("attributes")) else {
            throw VaultError.integrity("principal \(id): plain attributes are corrupt")
        }
        record = PrincipalRecord(
            id: id, name: name, role: try row.checked("role"), attributes: attributes,
            boxPublicKey: [UInt8](try row.checked("box_public_key") as Data), signPublicKey: [UInt8](try row.checked("sign_public_key") as Data),
            parameters: CredentialParameters(kind: kind, salt: [UInt8](try row.checked("kdf_salt") as Data), argon2: argon2),
            credentialCheck: [UInt8](try row.checked("credential_check") as Data), wrappedSecrets: [UInt8](try row.checked("wrapped_secrets") as Data),
            credentialVersion: UInt32(version), disabled: try row.checked("disabled"), certificate: (try row.checked("certificate") as Data?).map { [UInt8]($0) },
            disabledAtSeq: try row.checked("disabled_at_seq"), storedKeyVersion: try row.checked("key_version") as Int64? ?? 1)
    }
}

/// A `principal_keys` row.
struct PrincipalKeyRow: FetchableRecord {
    let key: PrincipalKey

    init(row: Row) throws {
        let version: Int64 = try row.checked("version")
        guard (1...Int64(UInt32.max)).contains(version) else {
            throw VaultError.integrity("principal \(try row.checked("principal_id") as Int64): a key version is out of range")
        }
        key = PrincipalKey(version: UInt32(version), boxPublicKey: [UInt8](try row.checked("box_public_key") as Data),
                           signPublicKey: [UInt8](try row.checked("sign_public_key") as Data), fromSeq: try row.checked("from_seq"),
                           endorsement: (try row.checked("endorsement") as Data?).map { [UInt8]($0) })
    }
}

/// A `key_grants` row joined with its `data_keys` row.
struct GrantRow: FetchableRecord {
    let stored: StoredGrant

    init(row: Row) throws {
        let principalID: Int64 = try row.checked("principal_id")
        guard let purpose = KeyPurpose(rawValue: try row.checked("purpose")) else {
            throw VaultError.integrity("principal \(principalID): a key grant has an unknown purpose")
        }
        let version: Int64 = try row.checked("version")
        guard (1...Int64(UInt32.max)).contains(version) else { throw VaultError.integrity("principal \(principalID): a key grant has a bad version") }
        stored = StoredGrant(keyID: try row.checked("key_id"), grant: KeyGrant(
            scope: KeyScope(field: try row.checked("field"), purpose: purpose, version: UInt32(version)),
            sealedKey: [UInt8](try row.checked("sealed_key") as Data), signature: [UInt8](try row.checked("signature") as Data),
            format: try row.checked("format")))
    }
}

/// A `data_keys` row.
struct DataKeyRow: FetchableRecord {
    let stored: StoredDataKey

    init(row: Row) throws {
        let id: Int64 = try row.checked("id"), version: Int64 = try row.checked("version")
        guard let purpose = KeyPurpose(rawValue: try row.checked("purpose")), (1...Int64(UInt32.max)).contains(version) else {
            throw VaultError.integrity("data_keys \(id): unknown purpose or version (altered in the file)")
        }
        stored = StoredDataKey(id: id, scope: KeyScope(field: try row.checked("field"), purpose: purpose, version: UInt32(version)),
                               publicKey: (try row.checked("public_key") as Data?).map { [UInt8]($0) }, retiredAt: try row.checked("retired_at"),
                               tag: (try row.checked("tag") as Data?).map { [UInt8]($0) })
    }
}

extension SQLiteTransaction: KeyStoreReading, KeyStoreWriting {
    // MARK: - Principals

    package func principal(named name: String) throws -> PrincipalRecord? {
        try PrincipalRow.fetchOne(db, sql: "SELECT * FROM principals WHERE name = ?", arguments: [name]).map { try withKeys($0.record) }
    }

    package func principal(id: Int64) throws -> PrincipalRecord? {
        try PrincipalRow.fetchOne(db, sql: "SELECT * FROM principals WHERE id = ?", arguments: [id]).map { try withKeys($0.record) }
    }

    package func principals() throws -> [PrincipalRecord] {
        try PrincipalRow.fetchAll(db, sql: "SELECT * FROM principals ORDER BY name").map { try withKeys($0.record) }
    }

    /// `record` with its key chain, which must end at the key version its row names.
    private func withKeys(_ record: PrincipalRecord) throws -> PrincipalRecord {
        var record = record
        // A vault read as it is on read-only media may predate key versions: its keys are version 1.
        record.keys = try db.tableExists("principal_keys")
            ? PrincipalKeyRow.fetchAll(db, sql: """
                SELECT principal_id, version, box_public_key, sign_public_key, from_seq, endorsement FROM principal_keys
                WHERE principal_id = ? ORDER BY version
                """, arguments: [record.id]).map(\.key)
            : [PrincipalKey(version: 1, boxPublicKey: record.boxPublicKey, signPublicKey: record.signPublicKey, fromSeq: 1, endorsement: nil)]
        guard record.storedKeyVersion == Int64(record.keyVersion) else {
            throw VaultError.integrity("principal \(record.name): its key version is not the last of its key chain (altered in the file)")
        }
        return record
    }

    package func principalStanding(named name: String) throws -> PrincipalStanding? {
        // Every request runs this, so it binds through SQLite directly (`BulkStatement`).
        let stored = try BulkStatement(db, sql: "SELECT disabled = 0, role, attributes, id FROM principals WHERE name = ?")
        try stored.bind(1, name)
        guard try stored.next() else { return nil }
        defer { stored.reset() }
        let id = stored.int64(3)
        guard let attributes = FlatJSON.decode(stored.text(2)) else { throw VaultError.integrity("principal \(id): plain attributes are corrupt") }
        return PrincipalStanding(id: id, enabled: stored.int64(0) == 1, role: stored.text(1), attributes: attributes)
    }

    package func insertPrincipal(_ record: PrincipalRecord) throws -> Int64 {
        let parameters = record.parameters
        try db.execute(
            sql: """
                INSERT INTO principals (name, role, attributes, box_public_key, sign_public_key, credential_kind, kdf_salt, kdf_ops,
                                        kdf_mem, credential_check, wrapped_secrets, credential_version, certificate, created_at,
                                        key_version, disabled, disabled_at_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [record.name, record.role, FlatJSON.encode(record.attributes), Data(record.boxPublicKey), Data(record.signPublicKey),
                        parameters.kind.rawValue, Data(parameters.salt), parameters.argon2.map { Int64($0.opsLimit) },
                        parameters.argon2.map { Int64($0.memLimit) }, Data(record.credentialCheck), Data(record.wrappedSecrets),
                        record.credentialVersion, record.certificate.map { Data($0) }, Timestamps.now(), record.keyVersion, record.disabled,
                        record.disabledAtSeq])
        let id = db.lastInsertedRowID
        for key in record.keys { try insertPrincipalKey(key, principalID: id) }
        return id
    }

    package func insertPrincipalKey(_ key: PrincipalKey, principalID: Int64) throws {
        try db.execute(sql: """
            INSERT INTO principal_keys (principal_id, version, box_public_key, sign_public_key, from_seq, endorsement) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [principalID, key.version, Data(key.boxPublicKey), Data(key.signPublicKey), key.fromSeq, key.endorsement.map { Data($0) }])
    }

    package func updatePrincipalDisabled(id: Int64, disabledAtSeq: Int64?, certificate: [UInt8]?) throws {
        try db.execute(sql: "UPDATE principals SET disabled = ?, disabled_at_seq = ?, certificate = ? WHERE id = ?",
                       arguments: [disabledAtSeq != nil, disabledAtSeq, certificate.map { Data($0) }, id])
    }

    package func updatePrincipalIdentity(id: Int64, role: String, attributes: [String: String], certificate: [UInt8]?) throws {
        try db.execute(sql: "UPDATE principals SET role = ?, attributes = ?, certificate = ? WHERE id = ?",
                       arguments: [role, FlatJSON.encode(attributes), certificate.map { Data($0) }, id])
    }

    package func updatePrincipalCredential(_ record: PrincipalRecord) throws {
        let parameters = record.parameters
        try db.execute(sql: """
            UPDATE principals SET credential_kind = ?, kdf_salt = ?, kdf_ops = ?, kdf_mem = ?, credential_check = ?,
                                  wrapped_secrets = ?, credential_version = ?, box_public_key = ?, sign_public_key = ?, key_version = ?
            WHERE id = ?
            """, arguments: [parameters.kind.rawValue, Data(parameters.salt), parameters.argon2.map { Int64($0.opsLimit) },
                             parameters.argon2.map { Int64($0.memLimit) }, Data(record.credentialCheck), Data(record.wrappedSecrets),
                             record.credentialVersion, Data(record.boxPublicKey), Data(record.signPublicKey), record.keyVersion, record.id])
    }

    // MARK: - Grants

    package func grants(principalID: Int64, includingRetired: Bool) throws -> [StoredGrant] {
        try GrantRow.fetchAll(db, sql: """
            SELECT g.principal_id, g.key_id, k.field, k.purpose, k.version, g.sealed_key, g.signature, g.format
            FROM key_grants g JOIN data_keys k ON k.id = g.key_id
            WHERE g.principal_id = ?\(includingRetired ? "" : " AND k.retired_at IS NULL")
            """, arguments: [principalID]).map(\.stored)
    }

    package func grantCount(principalID: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM key_grants WHERE principal_id = ?", arguments: [principalID]) ?? 0
    }

    package func insertGrant(_ grant: KeyGrant, principalID: Int64, keyID: Int64) throws {
        try db.execute(sql: "INSERT INTO key_grants (principal_id, key_id, sealed_key, signature, format) VALUES (?, ?, ?, ?, ?)",
                       arguments: [principalID, keyID, Data(grant.sealedKey), Data(grant.signature), grant.format])
    }

    package func deleteGrant(principalID: Int64, keyID: Int64) throws {
        try db.execute(sql: "DELETE FROM key_grants WHERE principal_id = ? AND key_id = ?", arguments: [principalID, keyID])
    }

    package func replaceGrantSealedKey(principalID: Int64, keyID: Int64, sealedKey: [UInt8]) throws {
        try db.execute(sql: "UPDATE key_grants SET sealed_key = ? WHERE principal_id = ? AND key_id = ?",
                       arguments: [Data(sealedKey), principalID, keyID])
    }

    // MARK: - Data keys

    package func dataKeys() throws -> [StoredDataKey] {
        try DataKeyRow.fetchAll(db, sql: "SELECT id, field, purpose, version, public_key, retired_at, tag FROM data_keys ORDER BY id").map(\.stored)
    }

    package func dataKeyEpoch() throws -> String {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT count(*) AS n, coalesce(max(id), 0) AS top FROM data_keys WHERE retired_at IS NULL"))
        return "\(row?["n"] as Int64? ?? 0):\(row?["top"] as Int64? ?? 0)"
    }

    package func insertDataKey(scope: KeyScope, publicKey: [UInt8]?, createdAt: String) throws -> Int64 {
        try db.execute(sql: "INSERT INTO data_keys (field, purpose, version, public_key, created_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [scope.field, scope.purpose.rawValue, scope.version, publicKey.map { Data($0) }, createdAt])
        return db.lastInsertedRowID
    }

    package func setDataKeyTag(id: Int64, tag: [UInt8]) throws {
        try db.execute(sql: "UPDATE data_keys SET tag = ? WHERE id = ?", arguments: [Data(tag), id])
    }

    package func retireDataKey(id: Int64, at retiredAt: String, tag: [UInt8]) throws {
        try db.execute(sql: "DELETE FROM key_grants WHERE key_id = ?", arguments: [id])
        try db.execute(sql: "UPDATE data_keys SET retired_at = ?, public_key = NULL, tag = ? WHERE id = ?", arguments: [retiredAt, Data(tag), id])
    }
}
