import Foundation
import VaultCrypto
import VaultCore
import VaultStore

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

    /// Whether no session was started.
    var isEmpty: Bool { sessions.isEmpty }

    private static func slot(_ field: String, _ purpose: KeyPurpose) -> String { "\(field)/\(purpose.rawValue)" }

    /// The session for writing `field`'s `purpose` (.seal or .mask) view, if one was started.
    func session(field: String, purpose: KeyPurpose) -> Session? { sessions[Self.slot(field, purpose)] }

    /// What the writer signs about a session (format 2): who, which session, field, view and key
    /// version, the sealed session key, and the hash of the policy in force when it started, under
    /// which a reader checks that the writer's role may write the field.
    static func message(vaultID: [UInt8], principal: String, id: Int64, field: String, purpose: KeyPurpose, version: UInt32,
                        sealedKey: [UInt8], policyHash: String?) -> [UInt8] {
        var writer = ByteWriter(domain: policyHash == nil ? "cvault.write-session.v1" : "cvault.write-session.v2")
        writer.append(vaultID)
        writer.append(principal)
        writer.append(id)
        writer.append(field)
        writer.append(purpose.rawValue)
        writer.append(version)
        writer.append(sealedKey)
        if let policyHash { writer.append(policyHash) }
        return writer.bytes
    }

    /// What the root key countersigns when the writer is disabled: its sessions from before stay
    /// readable; any it adds to the file afterwards lack this and are refused.
    static func countersignedMessage(_ message: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.write-session-countersign.v1")
        writer.append(message)
        return writer.bytes
    }

    /// The (field, view) pairs `keyring` may write only through a public key, at their current version.
    static func writeOnlyScopes(_ keyring: Keyring) -> [KeyScope] {
        keyring.scopes.filter { scope in
            // Fields only: the backup public key a backup operator holds seals backups, not values.
            guard scope.field != KeyScope.vaultWide, let twin = scope.purpose.privateTwin,
                  let current = keyring.currentKey(field: scope.field, purpose: scope.purpose), current.version == scope.version else {
                return false
            }
            return keyring.currentKey(field: scope.field, purpose: twin) == nil
        }
    }

    /// Starts sessions for every view the keyring may write only through a public key, and stores
    /// them (in the caller's transaction).
    static func start(principal: PrincipalRecord, signer: Ed25519.KeyPair, keyring: Keyring, vaultID: [UInt8], policyHash: String,
                      in tx: some StoreWriting) throws -> WriteSessions {
        guard let principalID = principal.id else { return .none }
        var sessions: [String: Session] = [:]
        let now = Timestamps.now()
        for scope in writeOnlyScopes(keyring) {
            guard let twin = scope.purpose.privateTwin, let publicKey = keyring.key(scope)?.withUnsafeBytes({ Array($0) }) else { continue }
            let sessionKey = try SecretBytes(randomCount: 32)
            let sealed = try sessionKey.withUnsafeBytes { try SealedBox.seal($0, to: publicKey) }
            let id = try tx.nextWriteSessionID()
            let signature = try Ed25519.sign(
                message(vaultID: vaultID, principal: principal.name, id: id, field: scope.field, purpose: twin,
                        version: scope.version, sealedKey: sealed, policyHash: policyHash), with: signer)
            try tx.insertWriteSession(StoredWriteSession(id: id, principalID: principalID, field: scope.field, purpose: twin, keyVersion: scope.version,
                                                         sealedKey: sealed, signature: signature, format: 2, policyHash: policyHash,
                                                         rootSignature: nil, createdAt: now))
            sessions[slot(scope.field, twin)] = Session(id: id, key: sessionKey, version: scope.version)
        }
        return WriteSessions(sessions: sessions)
    }
}

/// Session keys opened by a reader, cached for the life of the vault handle.
final class SessionKeyCache: Sendable {
    /// Sessions opened, with what they were checked to be (a hit is checked against the value again).
    private let cache = Mutex<[Int64: (session: VerifiedSession, key: SecretBytes)]>([:])
    let vaultID: [UInt8]
    let rootPublicKey: [UInt8]
    let schema: Schema
    /// The policy in force: a writer's role must hold a write grant for the field under it, or the
    /// session must be countersigned by the root key (given when a writer is disabled or its role
    /// loses the grant, so the values it wrote before stay readable).
    let currentPolicy: Policy

    init(vaultID: [UInt8], rootPublicKey: [UInt8], schema: Schema, currentPolicy: Policy) {
        self.vaultID = vaultID
        self.rootPublicKey = rootPublicKey
        self.schema = schema
        self.currentPolicy = currentPolicy
    }

    /// The key of session `id`, checked to belong to `field`/`purpose`/`version`, to be signed by
    /// the writer's current key (or, for a disabled writer, countersigned by the root key), and to
    /// come from a writer whose role may write `field` under the policy in force, or be
    /// countersigned by the root key. Nil when the reader lacks the field key the session is
    /// sealed to. Without `tx`, only sessions already loaded are found (for work spread over
    /// threads).
    func key(_ id: Int64, field: String, purpose: KeyPurpose, version: UInt32, keyring: Keyring, in tx: (any StoreReading)?) throws -> SecretBytes? {
        guard let fieldKey = keyring.key(KeyScope(field: field, purpose: purpose, version: version)) else { return nil }
        if let hit = cache.withLock({ $0[id] }) {
            // The same checks as a first use: a session of one field never opens a value of another.
            guard hit.session.field == field, hit.session.purpose == purpose, hit.session.version == version else {
                throw VaultError.integrity("write session \(id) belongs to another field or key version than the value naming it")
            }
            return hit.key
        }
        guard let tx else { throw VaultError.io("write session \(id) was not loaded before use") }
        let session = try verified(id, in: tx)
        guard session.field == field, session.purpose == purpose, session.version == version else {
            throw VaultError.integrity("write session \(id) belongs to another field or key version than the value naming it")
        }
        let key: SecretBytes
        do {
            key = try SealedBox.open(session.sealedKey, with: try WriteKeyPair.derive(from: fieldKey))
        } catch {
            throw VaultError.integrity("write session \(id): its key does not open")
        }
        cache.withLock { $0[id] = (session, key) }
        return key
    }

    /// A stored session, authenticated.
    struct VerifiedSession {
        var id: Int64
        var writer: String
        var field: String
        var purpose: KeyPurpose
        var version: UInt32
        var sealedKey: [UInt8]
    }

    /// Reads session `id` and checks everything but its key: the writer's certificate and key
    /// chain, its signature by the writer's current key, and that the writer may write the field:
    /// enabled and granted `write` on it by the policy in force, or vouched for by the root key's
    /// countersignature (a disabled writer, or one whose role lost the grant, for what it wrote before).
    func verified(_ id: Int64, in tx: some StoreReading) throws -> VerifiedSession {
        let place = "write session \(id)"
        guard let stored = try tx.writeSession(id: id) else {
            throw VaultError.integrity("\(place) does not exist (a sealed value refers to it)")
        }
        let field = stored.field, purpose = stored.purpose, version = stored.keyVersion, format = stored.format
        guard format == 1 || format == 2 else { throw VaultError.integrity("\(place): unknown format") }
        let policyHash: String? = format == 2 ? stored.policyHash ?? "" : nil
        let writer = try tx.requirePrincipal(id: stored.principalID)
        try writer.verifyCertificate(vaultID: vaultID, rootPublicKey: rootPublicKey)
        let sealed = stored.sealedKey
        let signed = WriteSessions.message(vaultID: vaultID, principal: writer.name, id: id, field: field, purpose: purpose,
                                           version: version, sealedKey: sealed, policyHash: policyHash)
        guard Ed25519.isValid(signature: stored.signature, for: signed, publicKey: writer.signPublicKey) else {
            throw VaultError.integrity("\(place): the signature by principal \(writer.name)'s current key does not verify (forged, or signed by a key it no longer holds)")
        }
        let countersigned = stored.rootSignature.map {
            Ed25519.isValid(signature: $0, for: WriteSessions.countersignedMessage(signed), publicKey: rootPublicKey)
        } ?? false
        if writer.disabled && !countersigned {
            throw VaultError.integrity("\(place): principal \(writer.name) is disabled and the session was not countersigned when it was (added to the file afterwards?)")
        }
        guard countersigned || currentPolicy.role(writer.role)?.grant(for: field).write == true else {
            throw VaultError.integrity("\(place): principal \(writer.name) (role \(writer.role)) has no write grant for \(field) under the policy "
                + "in force, and the session is not countersigned (a value planted in the file?)")
        }
        return VerifiedSession(id: id, writer: writer.name, field: field, purpose: purpose, version: version, sealedKey: sealed)
    }
}

extension WriteSessions {
    /// The sessions a principal started, each checked against its signature by the principal's
    /// current key (a session planted in the file is never signed again or countersigned).
    private static func verifiedSessions(of principal: PrincipalRecord, vaultID: [UInt8], in tx: some StoreReading) throws
        -> [(id: Int64, field: String, message: [UInt8])] {
        try tx.writeSessions(principalID: principal.id ?? 0).map { stored in
            let message = Self.message(vaultID: vaultID, principal: principal.name, id: stored.id, field: stored.field, purpose: stored.purpose,
                                       version: stored.keyVersion, sealedKey: stored.sealedKey,
                                       policyHash: stored.format == 2 ? stored.policyHash ?? "" : nil)
            guard Ed25519.isValid(signature: stored.signature, for: message, publicKey: principal.signPublicKey) else {
                throw VaultError.integrity("write session \(stored.id): the signature by principal \(principal.name) does not verify (planted in the file?)")
            }
            return (stored.id, stored.field, message)
        }
    }

    /// Signs again with `signer` (the principal's new key version) every session it started, so
    /// they stay readable while its old signing key stops counting. Returns how many.
    static func resign(of principal: PrincipalRecord, with signer: Ed25519.KeyPair, vaultID: [UInt8], in tx: some StoreWriting) throws -> Int {
        let sessions = try verifiedSessions(of: principal, vaultID: vaultID, in: tx)
        for session in sessions {
            try tx.setWriteSessionSignature(id: session.id, signature: try Ed25519.sign(session.message, with: signer))
        }
        return sessions.count
    }

    /// Countersigns with the root key the sessions of a principal being disabled (all), or of one
    /// whose role a new policy no longer lets write some fields (`fields` says which): those stay
    /// readable; a session added to the file afterwards has no countersignature and is refused.
    static func countersign(of principal: PrincipalRecord, fields: (String) -> Bool = { _ in true }, vaultID: [UInt8], root: Ed25519.KeyPair,
                            in tx: some StoreWriting) throws -> Int {
        let sessions = try verifiedSessions(of: principal, vaultID: vaultID, in: tx).filter { fields($0.field) }
        for session in sessions {
            try tx.setWriteSessionRootSignature(id: session.id, signature: try Ed25519.sign(countersignedMessage(session.message), with: root))
        }
        return sessions.count
    }
}
