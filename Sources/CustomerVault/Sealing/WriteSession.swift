import Foundation
import GRDB
import VaultCrypto

/// The session keys a write-only principal seals with in this process.
///
/// A principal granted a field's public key but not its seal key (`write` without `view: plain`)
/// draws a random key per field and view, stores it sealed to that field's public key and signed
/// by itself, and seals values under it (envelope format 2). Nothing its credential opens can
/// open a session key, so it cannot read back what it wrote; holders of the field key can.
struct WriteSessions: Sendable {
    struct Session: Sendable {
        var id: Int64
        var key: SecretBytes
        var version: UInt32
    }

    private let sessions: [String: Session]

    static let none = WriteSessions(sessions: [:])

    private static func slot(_ field: String, _ purpose: KeyPurpose) -> String { "\(field)/\(purpose.rawValue)" }

    /// The session for writing `field`'s `purpose` (.seal or .mask) view, if one was started.
    func session(field: String, purpose: KeyPurpose) -> Session? { sessions[Self.slot(field, purpose)] }

    static func message(vaultID: [UInt8], principal: String, id: Int64, field: String, purpose: KeyPurpose, version: UInt32,
                        sealedKey: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.write-session.v1")
        writer.append(vaultID)
        writer.append(principal)
        writer.append(id)
        writer.append(field)
        writer.append(purpose.rawValue)
        writer.append(version)
        writer.append(sealedKey)
        return writer.bytes
    }

    /// The (field, view) pairs `keyring` may write only through a public key, at their current version.
    static func writeOnlyScopes(_ keyring: Keyring) -> [KeyScope] {
        keyring.scopes.filter { scope in
            guard let twin = scope.purpose.privateTwin,
                  let current = keyring.currentKey(field: scope.field, purpose: scope.purpose), current.version == scope.version else {
                return false
            }
            return keyring.currentKey(field: scope.field, purpose: twin) == nil
        }
    }

    /// Starts sessions for every view the keyring may write only through a public key, and stores
    /// them (in the caller's transaction).
    static func start(principal: PrincipalRecord, signer: Ed25519.KeyPair, keyring: Keyring, vaultID: [UInt8],
                      db: Database) throws -> WriteSessions {
        guard let principalID = principal.id else { return .none }
        var sessions: [String: Session] = [:]
        let now = Timestamps.now()
        for scope in writeOnlyScopes(keyring) {
            guard let twin = scope.purpose.privateTwin, let publicKey = keyring.key(scope)?.withUnsafeBytes({ Array($0) }) else { continue }
            let sessionKey = try SecretBytes(randomCount: 32)
            let sealed = try sessionKey.withUnsafeBytes { try SealedBox.seal($0, to: publicKey) }
            let id = try RecordCodec.nextRecordID(table: "write_sessions", db: db)
            let signature = try Ed25519.sign(
                message(vaultID: vaultID, principal: principal.name, id: id, field: scope.field, purpose: twin,
                        version: scope.version, sealedKey: sealed), with: signer)
            try db.execute(sql: """
                INSERT INTO write_sessions (id, principal_id, field, purpose, key_version, sealed_key, signature, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, principalID, scope.field, twin.rawValue, scope.version, Data(sealed), Data(signature), now])
            sessions[slot(scope.field, twin)] = Session(id: id, key: sessionKey, version: scope.version)
        }
        return WriteSessions(sessions: sessions)
    }
}

/// Session keys opened by a reader, cached for the life of the vault handle.
final class SessionKeyCache: Sendable {
    private let cache = Mutex<[Int64: SecretBytes]>([:])
    let vaultID: [UInt8]
    let rootPublicKey: [UInt8]

    init(vaultID: [UInt8], rootPublicKey: [UInt8]) {
        self.vaultID = vaultID
        self.rootPublicKey = rootPublicKey
    }

    /// The key of session `id`, checked to belong to `field`/`purpose`/`version` and to be signed by
    /// a certified principal. Nil when the reader lacks the field key the session is sealed to.
    /// Without `db`, only sessions already loaded are found (for work spread over threads).
    func key(_ id: Int64, field: String, purpose: KeyPurpose, version: UInt32, keyring: Keyring, db: Database?) throws -> SecretBytes? {
        if let hit = cache.withLock({ $0[id] }) { return hit }
        guard let fieldKey = keyring.key(KeyScope(field: field, purpose: purpose, version: version)) else { return nil }
        let place = "write session \(id)"
        guard let db else { throw VaultError.io("\(place) was not loaded before use") }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT principal_id, field, purpose, key_version, sealed_key, signature FROM write_sessions WHERE id = ?
            """), arguments: [id]) else {
            throw VaultError.integrity("\(place) does not exist (a sealed value refers to it)")
        }
        guard row["field"] == field, row["purpose"] == purpose.rawValue, row["key_version"] == Int64(version) else {
            throw VaultError.integrity("\(place) belongs to another field or key version than the value naming it")
        }
        let writer = try PrincipalRecord.fetch(db, id: row["principal_id"])
        try writer.verifyCertificate(vaultID: vaultID, rootPublicKey: rootPublicKey)
        let sealed = [UInt8](row["sealed_key"] as Data)
        let signed = WriteSessions.message(vaultID: vaultID, principal: writer.name, id: id, field: field, purpose: purpose,
                                           version: version, sealedKey: sealed)
        guard Ed25519.isValid(signature: [UInt8](row["signature"] as Data), for: signed, publicKey: writer.signPublicKey) else {
            throw VaultError.integrity("\(place): signature by principal \(writer.name) does not verify")
        }
        let key: SecretBytes
        do {
            key = try SealedBox.open(sealed, with: try WriteKeyPair.derive(from: fieldKey))
        } catch {
            throw VaultError.integrity("\(place): its key does not open")
        }
        cache.withLock { $0[id] = key }
        return key
    }
}
