import Foundation
import GRDB

/// Edits of the access log in the file: what its hash chain, signatures and checkpoints must reveal.
extension VaultFileInspector {
    /// Changes one column of entry `seq`: a blob gets byte 4 flipped (to 0x5A, or 0xA5 when it already
    /// was 0x5A), `format` becomes the other format, `principal` another principal, text gets an "x".
    package func tamperAuditEntry(_ seq: Int64, column: String) throws {
        try write { db in
            switch column {
            case "prev_hash", "hash", "signature":
                try db.execute(sql: """
                    UPDATE audit_log SET \(column) = CAST(substr(\(column), 1, 3)
                      || CASE WHEN substr(\(column), 4, 1) = X'5A' THEN X'A5' ELSE X'5A' END || substr(\(column), 5) AS BLOB)
                    WHERE seq = ?
                    """, arguments: [seq])
            case "format":
                try db.execute(sql: "UPDATE audit_log SET format = 3 - format WHERE seq = ?", arguments: [seq])
            case "principal":
                try db.execute(sql: "UPDATE audit_log SET principal = CASE principal WHEN 'admin' THEN 'support' ELSE 'admin' END WHERE seq = ?", arguments: [seq])
            default:
                try db.execute(sql: "UPDATE audit_log SET \(column) = coalesce(\(column), '') || 'x' WHERE seq = ?", arguments: [seq])
            }
        }
    }

    /// Moves every entry from `position` on one place later, leaving a gap at `position` for a forged one.
    package func shiftAuditEntries(from position: Int64) throws {
        try write { db in
            try db.execute(sql: "UPDATE audit_log SET seq = -seq WHERE seq >= ?", arguments: [position])
            try db.execute(sql: "UPDATE audit_log SET seq = 1 - seq WHERE seq < 0")
        }
    }

    /// Swaps entries `seq` and `seq + 1` (everything but their sequence numbers).
    package func swapAuditEntries(_ seq: Int64) throws {
        try write { db in
            try db.execute(sql: "UPDATE audit_log SET seq = -1 WHERE seq = ?", arguments: [seq])
            try db.execute(sql: "UPDATE audit_log SET seq = ? WHERE seq = ?", arguments: [seq, seq + 1])
            try db.execute(sql: "UPDATE audit_log SET seq = ? WHERE seq = -1", arguments: [seq + 1])
        }
    }

    /// Every text column of every entry, quoted and joined: to look for a value the log must not hold.
    package func auditLogText() throws -> String {
        try read { db in
            try String.fetchAll(db, sql: "SELECT quote(at)||quote(principal)||quote(role)||quote(action)||quote(purpose)||quote(reason)||quote(target)||quote(fields)||quote(outcome)||quote(error_code)||quote(detail)||quote(policy_hash)||quote(terms) FROM audit_log").joined()
        }
    }
}

extension VaultFileInspector {
    /// How many values the rotations' committed batches re-encrypted, from their access-log
    /// entries ("rotation: N values re-encrypted"): a progress measure cheap enough to poll.
    package func valuesReencryptedByRotations() throws -> Int {
        try read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM audit_log WHERE action = 'keys.rotate' AND detail LIKE 'rotation: % values re-encrypted'")
                .compactMap { Int($0.dropFirst("rotation: ".count).prefix { $0.isNumber }) }.reduce(0, +)
        }
    }
}
