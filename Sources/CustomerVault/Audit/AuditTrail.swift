import Foundation
import VaultStore
import VaultCrypto
import VaultCore

/// Appends entries to the hash-chained, signed access log (``AuditChain``) inside the caller's transaction.
struct AuditTrail: Sendable {
    let vaultID: [UInt8]
    let signer: Ed25519.KeyPair

    /// The sequence number the next entry appended in this transaction gets (records that name the
    /// entry of their own operation, made before it is appended: erasures, key changes, disables).
    static func nextSeq(_ log: some AuditLogReading) throws -> Int64 {
        guard let head = try log.auditHead() else { return 1 }
        return try AuditChain.following(head.seq)
    }

    /// Appends `entry`, chained to the head and signed. Throws (and so aborts the caller's
    /// transaction) when it cannot be written.
    func append(_ entry: AuditEntry, to log: some AuditLogReading & AuditLogWriting) throws {
        let head = try log.auditHead()
        let seq = try head.map { try AuditChain.following($0.seq) } ?? 1
        let previousHash = try head?.hash ?? AuditChain.genesisHash(vaultID: vaultID)
        let hash = try AuditChain.entryHash(format: AuditChain.currentFormat, seq: seq, entry: entry, signerPublicKey: signer.publicKey,
                                            previousHash: previousHash)
        let signature = try Ed25519.sign(hash, with: signer)
        try log.appendAuditEntry(StoredAuditEntry(seq: seq, format: AuditChain.currentFormat, entry: entry, previousHash: previousHash,
                                                  hash: hash, signature: signature))
    }
}
