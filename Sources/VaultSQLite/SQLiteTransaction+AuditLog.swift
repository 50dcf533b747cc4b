import Foundation
import GRDB
import VaultCore
package import VaultStore

/// An `audit_log` row, decoded with the types cvault stores (a value of another type is an
/// integrity error: the file can hold anything).
struct AuditLogRow: FetchableRecord {
    static let columns = """
        seq, format, at, principal, role, action, purpose, reason, target, fields, outcome, error_code, detail, policy_hash, terms,
        prev_hash, hash, signature
        """
    let stored: StoredAuditEntry

    init(row: Row) throws {
        let seq: Int64 = try row.checked("seq")
        guard let outcome = AuditEntry.Outcome(rawValue: try row.checked("outcome")) else {
            throw VaultError.integrity("audit log entry \(seq): unknown outcome (altered in the file)")
        }
        let fields: String = try row.checked("fields"), terms: String = try row.checked("terms")
        let entry = AuditEntry(
            at: try row.checked("at"), principal: try row.checked("principal"), role: try row.checked("role"),
            action: try row.checked("action"), purpose: try row.checked("purpose"), reason: try row.checked("reason"),
            target: try row.checked("target"), fields: fields.isEmpty ? [] : fields.components(separatedBy: ","), outcome: outcome,
            errorCode: try row.checked("error_code"), detail: try row.checked("detail"), policyHash: try row.checked("policy_hash"),
            terms: terms.isEmpty ? [] : terms.components(separatedBy: ","))
        stored = StoredAuditEntry(seq: seq, format: try row.checked("format"), entry: entry,
                                  previousHash: [UInt8](try row.checked("prev_hash") as Data), hash: [UInt8](try row.checked("hash") as Data),
                                  signature: [UInt8](try row.checked("signature") as Data))
    }
}

extension SQLiteTransaction: AuditLogReading, AuditLogWriting {
    package func auditHead() throws -> AuditHead? {
        // Every access runs this, so it binds through SQLite directly (`BulkStatement`).
        let head = try BulkStatement(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        guard try head.next() else { return nil }
        defer { head.reset() }
        return AuditHead(seq: head.int64(0), hash: head.bytes(1))
    }

    package func auditExtent() throws -> (count: Int64, top: Int64) {
        guard let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(max(seq), 0) AS top FROM audit_log") else { return (0, 0) }
        return (try row.checked("n"), try row.checked("top"))
    }

    package func forEachAuditEntry(_ query: AuditQuery, _ body: (StoredAuditEntry) throws -> Bool) throws {
        var sql = "SELECT \(AuditLogRow.columns) FROM audit_log WHERE seq > ? AND seq <= ?"
        var arguments: [any DatabaseValueConvertible] = [query.after, query.through]
        if let principal = query.principal { sql += " AND principal = ?"; arguments.append(principal) }
        if let action = query.action { sql += " AND action = ?"; arguments.append(action) }
        let rows = try AuditLogRow.fetchCursor(db, sql: sql + " ORDER BY seq", arguments: StatementArguments(arguments))
        while let row = try rows.next() {
            guard try body(row.stored) else { return }
        }
    }

    package func newestAllowedAuditEntry(action: String, principal: String?, target: String?, detailPrefix: String) throws -> StoredAuditEntry? {
        var sql = "SELECT \(AuditLogRow.columns) FROM audit_log WHERE action = ? AND outcome = 'allowed' AND substr(detail, 1, ?) = ?"
        var arguments: [any DatabaseValueConvertible] = [action, detailPrefix.utf8.count, detailPrefix]
        if let principal { sql += " AND principal = ?"; arguments.append(principal) }
        if let target { sql += " AND target = ?"; arguments.append(target) }
        return try AuditLogRow.fetchOne(db, sql: sql + " ORDER BY seq DESC LIMIT 1", arguments: StatementArguments(arguments))?.stored
    }

    package func appendAuditEntry(_ stored: StoredAuditEntry) throws {
        let entry = stored.entry
        let insert = try BulkStatement(db, sql: """
            INSERT INTO audit_log (seq, format, at, principal, role, action, purpose, reason, target, fields, outcome, error_code,
                                   detail, policy_hash, terms, prev_hash, hash, signature)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.bind(1, stored.seq)
        try insert.bind(2, stored.format)
        for (index, text) in [entry.at, entry.principal, entry.role, entry.action].enumerated() { try insert.bind(Int32(3 + index), text) }
        try insert.bind(7, optional: entry.purpose)
        try insert.bind(8, optional: entry.reason)
        for (index, text) in [entry.target, entry.fields.joined(separator: ","), entry.outcome.rawValue, entry.errorCode, entry.detail,
                              entry.policyHash, entry.terms.joined(separator: ",")].enumerated() {
            try insert.bind(Int32(9 + index), text)
        }
        try insert.bind(16, stored.previousHash)
        try insert.bind(17, stored.hash)
        try insert.bind(18, stored.signature)
        _ = try insert.execute()
    }
}
