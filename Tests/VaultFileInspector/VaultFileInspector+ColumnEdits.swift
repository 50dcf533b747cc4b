import Foundation
import GRDB

/// One value of one column changed in the file, for the row-edit sweep: the row each edit targets
/// (one some principal reads) and the plausible value it writes there.
extension VaultFileInspector {
    package struct ColumnEdit: Sendable {
        /// `table.column`, or `vault_meta.column[name]` (vault_meta holds one setting per row).
        package let label: String
        let table: String
        let column: String
        let condition: String
    }

    /// The edits of `column` of `table`: one per setting in vault_meta, one row elsewhere.
    package func columnEdits(_ table: String, column: String) throws -> [ColumnEdit] {
        guard table == "vault_meta" else {
            return [ColumnEdit(label: "\(table).\(column)", table: table, column: column, condition: Self.target(table))]
        }
        return try read { db in
            try String.fetchAll(db, sql: "SELECT name FROM vault_meta ORDER BY name").map {
                ColumnEdit(label: "vault_meta.\(column)[\($0)]", table: table, column: column, condition: "name = '\($0)'")
            }
        }
    }

    /// Writes a changed value into the targeted row (a value nobody uses when the changed one is a key
    /// another row holds); false when there is no such row.
    package func apply(_ edit: ColumnEdit) throws -> Bool {
        let (table, column, condition) = (edit.table, edit.column, edit.condition)
        return try writing(table) { db -> Bool in
            guard let value = try DatabaseValue.fetchOne(db, sql: "SELECT \(column) FROM \(table) WHERE \(condition) LIMIT 1") else { return false }
            do {
                try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE \(condition)", arguments: [Self.changed(value, table: table, column: column)])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                // A key taken by another row: a value nobody uses instead.
                let unused: DatabaseValue = switch value.storage {
                case .int64(let n): (n + 1_000_000).databaseValue
                default: "planted-\(column)".databaseValue
                }
                try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE \(condition)", arguments: [unused])
            }
            return db.changesCount > 0
        }
    }

    /// A different but plausible value for a column (the same type, a nearby value).
    static func changed(_ value: DatabaseValue, table: String, column: String) -> DatabaseValue {
        switch value.storage {
        case .null: return column.hasSuffix("_at") || column == "purpose" ? "2026-06-06T06:06:06Z".databaseValue : Data([1, 2, 3]).databaseValue
        case .int64(let n): return (n == 0 ? 1 : n == 1 ? 0 : n + 1).databaseValue
        case .double(let d): return (d + 1).databaseValue
        case .string(let text):
            for (from, to) in [("\"EU\"", "\"UK\""), ("\"UK\"", "\"EU\""), ("true", "false"), ("false", "true"), ("2026-", "2025-"), ("customers", "transactions")]
            where text.contains(from) {
                return text.replacingOccurrences(of: from, with: to).databaseValue
            }
            return (text + "x").databaseValue
        case .blob(let data):
            guard !data.isEmpty else { return Data([0]).databaseValue }
            var bytes = [UInt8](data)
            bytes[bytes.count - 1] ^= 0x01
            return Data(bytes).databaseValue
        }
    }

    /// The row of each table an edit targets: one that some principal reads.
    static func target(_ table: String) -> String {
        switch table {
        case "customers": return "id = (SELECT min(id) FROM customers)"
        case "sealed_values": return "entity = 'customers' AND record_id = (SELECT min(id) FROM customers) AND field = 'phone'"
        case "transactions", "interactions": return "id = (SELECT min(id) FROM \(table))"
        case "blind_indexes": return "customer_id = (SELECT min(id) FROM customers) AND field = 'phone'"
        case "unique_indexes": return "customer_id = (SELECT min(id) FROM customers)"
        case "behaviour": return "customer_id = (SELECT min(customer_id) FROM behaviour)"
        case "consent_events": return "id = (SELECT max(id) FROM consent_events)"
        case "principals": return "name = 'marketing'"
        case "principal_keys": return "principal_id = (SELECT id FROM principals WHERE name = 'marketing') AND version = 2"
        case "key_grants": return "principal_id = (SELECT id FROM principals WHERE name = 'support') AND key_id = (SELECT min(key_id) FROM key_grants)"
        case "data_keys": return "id = (SELECT id FROM data_keys WHERE field = 'customers.email' AND purpose = 'seal' AND retired_at IS NULL)"
        case "write_sessions": return "id = (SELECT min(id) FROM write_sessions)"
        case "audit_log": return "seq = (SELECT max(seq) / 2 FROM audit_log)"
        case "policy_history": return "hash = (SELECT hash FROM policy_history ORDER BY stored_at LIMIT 1)"
        case "key_rotations", "erasure_ledger": return "rowid = (SELECT min(rowid) FROM \(table))"
        case "grdb_migrations": return "identifier = 'v8-integrity'"
        case "imports": return "file_digest = (SELECT min(file_digest) FROM imports)"
        case "import_rejects": return "record = (SELECT min(record) FROM import_rejects)"
        case "sqlite_sequence": return "name = 'customers'"
        case "natural_keys": return "entity = 'transactions' AND record_id = (SELECT min(id) FROM transactions)"
        default: return "rowid = (SELECT min(rowid) FROM \(table))"
        }
    }
}
