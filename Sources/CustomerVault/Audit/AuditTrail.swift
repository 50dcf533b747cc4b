import Foundation
import GRDB
import VaultSQLite
import VaultCrypto
import VaultCore

/// Appends entries to the hash-chained, signed access log (``AuditChain``) inside the caller's transaction.
struct AuditTrail: Sendable {
    let vaultID: [UInt8]
    let signer: Ed25519.KeyPair

    /// The sequence number the next entry appended in this transaction gets (records that name the
    /// entry of their own operation, made before it is appended: erasures, key changes, disables).
    static func nextSeq(_ db: Database) throws -> Int64 {
        let head = try BulkStatement(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        guard try head.next() else { return 1 }
        defer { head.reset() }
        return try AuditChain.following(head.int64(0))
    }

    /// Appends `entry`. Throws (and so aborts the caller's transaction) when it cannot be written.
    func append(_ entry: AuditEntry, in db: Database) throws {
        // Every access runs this, so its statements bind through SQLite directly (`BulkStatement`).
        let head = try BulkStatement(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        var seq: Int64 = 1
        var previous: [UInt8]?
        if try head.next() {
            seq = try AuditChain.following(head.int64(0))
            previous = head.bytes(1)
            head.reset()
        }
        let previousHash = try previous ?? AuditChain.genesisHash(vaultID: vaultID)
        let hash = try AuditChain.entryHash(format: AuditChain.currentFormat, seq: seq, entry: entry, signerPublicKey: signer.publicKey,
                                      previousHash: previousHash)
        let signature = try Ed25519.sign(hash, with: signer)
        let insert = try BulkStatement(db, sql: """
            INSERT INTO audit_log (seq, format, at, principal, role, action, purpose, reason, target, fields, outcome, error_code,
                                   detail, policy_hash, terms, prev_hash, hash, signature)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.bind(1, seq)
        try insert.bind(2, AuditChain.currentFormat)
        for (index, text) in [entry.at, entry.principal, entry.role, entry.action].enumerated() { try insert.bind(Int32(3 + index), text) }
        try insert.bind(7, optional: entry.purpose)
        try insert.bind(8, optional: entry.reason)
        for (index, text) in [entry.target, entry.fields.joined(separator: ","), entry.outcome.rawValue, entry.errorCode, entry.detail,
                              entry.policyHash, entry.terms.joined(separator: ",")].enumerated() {
            try insert.bind(Int32(9 + index), text)
        }
        try insert.bind(16, previousHash)
        try insert.bind(17, hash)
        try insert.bind(18, signature)
        try insert.execute()
    }
}
