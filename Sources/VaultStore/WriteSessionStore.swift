package import VaultCore

/// A write session as stored: a write-only principal's session key for one field and view,
/// sealed to the field's public key and signed by the principal (and, once countersigned, by the
/// root key). Checked above the store (``StoredWriteSession/signature``, ``rootSignature``).
package struct StoredWriteSession: Sendable, Equatable {
    package var id: Int64
    package var principalID: Int64
    package var field: String
    package var purpose: KeyPurpose
    package var keyVersion: UInt32
    package var sealedKey: [UInt8]
    package var signature: [UInt8]
    /// 1 (no policy hash) or 2.
    package var format: Int64
    package var policyHash: String?
    package var rootSignature: [UInt8]?
    package var createdAt: String

    package init(id: Int64, principalID: Int64, field: String, purpose: KeyPurpose, keyVersion: UInt32, sealedKey: [UInt8], signature: [UInt8],
                 format: Int64, policyHash: String?, rootSignature: [UInt8]?, createdAt: String) {
        self.id = id
        self.principalID = principalID
        self.field = field
        self.purpose = purpose
        self.keyVersion = keyVersion
        self.sealedKey = sealedKey
        self.signature = signature
        self.format = format
        self.policyHash = policyHash
        self.rootSignature = rootSignature
        self.createdAt = createdAt
    }
}

/// Reading write sessions.
package protocol WriteSessionReading {
    /// Session `id`; nil when there is none.
    func writeSession(id: Int64) throws -> StoredWriteSession?
    /// The sessions a principal started, by id.
    func writeSessions(principalID: Int64) throws -> [StoredWriteSession]
    /// The id the next session gets: above every id ever used, so an id is never reused.
    func nextWriteSessionID() throws -> Int64
    /// Every write session's id, in order.
    func writeSessionIDs() throws -> [Int64]
}

/// Changing write sessions.
package protocol WriteSessionWriting {
    func insertWriteSession(_ session: StoredWriteSession) throws
    /// Replaces a session's signature (its writer's new key version signs it again).
    func setWriteSessionSignature(id: Int64, signature: [UInt8]) throws
    /// Stores the root key's countersignature of a session.
    func setWriteSessionRootSignature(id: Int64, signature: [UInt8]) throws
    /// Deletes the sessions of `field` under key versions below `version` (their keys retired).
    func deleteWriteSessions(field: String, below version: UInt32) throws
}
