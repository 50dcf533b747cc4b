import GRDB

/// One access-log entry as an auditor reads it.
public struct AuditRecord: Sendable, Equatable, Codable {
    public var seq: Int64
    public var at: String
    public var principal: String
    public var role: String
    public var action: String
    public var purpose: String?
    public var target: String
    public var fields: String
    public var outcome: String
    public var detail: String
}

extension CustomerVault {
    /// Access-log entries after `after`, oldest first (action `audit.read`). Reading the log is
    /// itself logged.
    public func auditLog(after: Int64 = 0, limit: Int = 100) async throws -> [AuditRecord] {
        guard (1...10_000).contains(limit) else { throw VaultError.invalidInput("limit must be between 1 and 10000") }
        return try await perform(AccessRequest(.auditRead)) { db, note in
            let rows = try Row.fetchAll(db, sql: """
                SELECT seq, at, principal, role, action, purpose, target, fields, outcome, detail
                FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?
                """, arguments: [after, limit])
            note.target = "audit_log:\(rows.count) entries after \(after)"
            return rows.map { row in
                AuditRecord(seq: row["seq"], at: row["at"], principal: row["principal"], role: row["role"], action: row["action"],
                            purpose: row["purpose"], target: row["target"], fields: row["fields"], outcome: row["outcome"], detail: row["detail"])
            }
        }
    }
}
