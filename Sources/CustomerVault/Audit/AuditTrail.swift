import Foundation
import GRDB
import VaultCrypto

/// What an access log entry says. No personal value ever goes in here: targets are record ids or
/// counts and digests, fields are names, details are error codes and rule names.
struct AuditEntry: Sendable {
    enum Outcome: String, Sendable { case allowed, denied, failed }

    var at: String
    var principal: String
    var role: String
    var action: String
    var purpose: String?
    var target: String
    var fields: [String]
    var outcome: Outcome
    var detail: String
}

/// Appends entries to the hash-chained, signed access log inside the caller's transaction.
///
/// `hash = BLAKE2b-256(canonical(entry) ‖ previous hash)`; `signature = Ed25519(hash)` by the acting
/// principal. The first entry chains to `BLAKE2b-256("cvault.audit.genesis" ‖ vault id)`.
struct AuditTrail: Sendable {
    let vaultID: [UInt8]
    let signer: Ed25519.KeyPair

    static func genesisHash(vaultID: [UInt8]) throws -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.audit.genesis")
        writer.append(vaultID)
        return try BLAKE2b.hash(writer.bytes)
    }

    static func entryHash(seq: Int64, entry: AuditEntry, previousHash: [UInt8]) throws -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.audit.v1")
        writer.append(seq)
        writer.append(entry.at)
        writer.append(entry.principal)
        writer.append(entry.role)
        writer.append(entry.action)
        writer.append(entry.purpose ?? "")
        writer.append(entry.target)
        writer.append(entry.fields.joined(separator: ","))
        writer.append(entry.outcome.rawValue)
        writer.append(entry.detail)
        writer.append(previousHash)
        return try BLAKE2b.hash(writer.bytes)
    }

    /// Appends `entry`. Throws (and so aborts the caller's transaction) when it cannot be written.
    func append(_ entry: AuditEntry, in db: Database) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (last?["seq"] ?? 0) + 1
        let previous: [UInt8] = try last.map { [UInt8]($0["hash"] as Data) } ?? Self.genesisHash(vaultID: vaultID)
        let hash = try Self.entryHash(seq: seq, entry: entry, previousHash: previous)
        let signature = try Ed25519.sign(hash, with: signer)
        try db.execute(
            sql: """
                INSERT INTO audit_log (seq, at, principal, role, action, purpose, target, fields, outcome, detail, prev_hash, hash, signature)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [seq, entry.at, entry.principal, entry.role, entry.action, entry.purpose, entry.target,
                        entry.fields.joined(separator: ","), entry.outcome.rawValue, entry.detail,
                        Data(previous), Data(hash), Data(signature)])
    }

    /// A compact, non-reversible description of a set of record ids for bulk operations.
    static func bulkTarget(entity: Entity, ids: [Int64]) throws -> String {
        guard ids.count > 8 else { return "\(entity.rawValue):" + ids.map(String.init).joined(separator: ",") }
        var writer = ByteWriter(domain: "cvault.audit.ids")
        for id in ids { writer.append(id) }
        let digest = try BLAKE2b.hash(writer.bytes, outputLength: 16)
        return "\(entity.rawValue):count=\(ids.count),first=\(ids.first ?? 0),last=\(ids.last ?? 0),digest=\(Hex.encode(digest))"
    }
}
