import Foundation
import GRDB

/// Edits of authorisation, sessions, keys and records that take more than one column set to a
/// value: each done exactly as the attack describes it.
extension VaultFileInspector {
    /// An edit of who may do what: a principal's role or rows, or the stored policy.
    package enum AuthorisationEdit: String, CaseIterable, Sendable {
        /// support's role set to admin.
        case supportMadeAdmin
        /// support's regions widened to EU, UK and US.
        case supportRegionsWidened
        /// The policy's deny list of customer.delete and subject.erase emptied.
        case policyDenyListEmptied

        var sql: String {
            switch self {
            case .supportMadeAdmin: "UPDATE principals SET role = 'admin' WHERE name = 'support'"
            case .supportRegionsWidened: "UPDATE principals SET attributes = '{\"regions\":\"EU,UK,US\"}' WHERE name = 'support'"
            case .policyDenyListEmptied:
                "UPDATE vault_meta SET value = CAST(replace(CAST(value AS TEXT), 'deny: [customer.delete, subject.erase]', 'deny: []') AS BLOB) WHERE name = 'policy'"
            }
        }
    }

    /// An edit of the e-mail field's seal write session.
    package enum SessionEdit: String, CaseIterable, Sendable {
        /// Its sealed key swapped for another field's session's.
        case keySwapped
        /// Its signature zeroed.
        case signatureZeroed
        /// Moved to the name field.
        case movedToAnotherField

        var sql: String {
            switch self {
            case .keySwapped:
                "UPDATE write_sessions SET sealed_key = (SELECT sealed_key FROM write_sessions w2 WHERE w2.id <> write_sessions.id AND w2.field <> write_sessions.field LIMIT 1) WHERE field = 'customers.email' AND purpose = 'seal'"
            case .signatureZeroed: "UPDATE write_sessions SET signature = zeroblob(64) WHERE field = 'customers.email' AND purpose = 'seal'"
            case .movedToAnotherField: "UPDATE write_sessions SET field = 'customers.name' WHERE field = 'customers.email' AND purpose = 'seal'"
            }
        }
    }

    /// Applies the edit; returns how many rows it changed.
    @discardableResult
    package func apply(_ edit: AuthorisationEdit) throws -> Int {
        try write { db in try db.execute(sql: edit.sql); return db.changesCount }
    }

    /// Applies the edit; returns how many rows it changed.
    @discardableResult
    package func apply(_ edit: SessionEdit) throws -> Int {
        try write { db in try db.execute(sql: edit.sql); return db.changesCount }
    }

    /// Every principal's wrapped secrets overwritten with zero bytes of the same length.
    package func zeroWrappedSecrets() throws {
        try write { db in try db.execute(sql: "UPDATE principals SET wrapped_secrets = zeroblob(length(wrapped_secrets))") }
    }

    /// The e-mail value of the customer with the smallest id put back to key version 1 (as a writer
    /// that had not seen a rotation would leave it).
    package func rollBackFirstEmailToVersion1() throws {
        try withSealedValues(writing: true) { db in
            try db.execute(sql: """
                UPDATE sealed_values SET key_version = 1 WHERE entity = 'customers' AND field = 'email'
                  AND record_id = (SELECT min(record_id) FROM sealed_values WHERE entity = 'customers' AND field = 'email')
                """)
        }
    }

    /// An erased customer's rows, each with its valid tag, copied back from an older copy of the file.
    package func putBackErasedCustomer(_ id: Int64, from older: String) throws {
        try attaching(older) { db in
            try db.execute(sql: "DELETE FROM customers WHERE id = ?", arguments: [id])
            try db.execute(sql: "INSERT INTO customers SELECT * FROM old.customers WHERE id = ?", arguments: [id])
            // Sealed values come back with their rows (each record's are packed in its row).
            for table in ["blind_indexes", "unique_indexes", "interactions", "behaviour", "consent_events"] {
                try db.execute(sql: "INSERT OR IGNORE INTO \(table) SELECT * FROM old.\(table) WHERE customer_id = ?", arguments: [id])
            }
        }
    }

    /// A principal's record (old keys, old certificate), its shorter key chain and its old grants put
    /// back from an older copy of the file.
    package func putBackPrincipal(_ name: String, from older: String) throws {
        try attaching(older) { db in
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM principals WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM principal_keys WHERE principal_id = ? AND version > 1", arguments: [id])
            try db.execute(sql: "DELETE FROM key_grants WHERE principal_id = ?", arguments: [id])
            try db.execute(sql: "INSERT INTO key_grants SELECT * FROM old.key_grants WHERE principal_id = ?", arguments: [id])
            let row = try Row.fetchOne(db, sql: "SELECT * FROM old.principals WHERE name = ?", arguments: [name])!
            let columns = row.columnNames.filter { $0 != "id" }
            try db.execute(sql: "UPDATE principals SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE name = ?",
                           arguments: StatementArguments(columns.map { row[$0] as DatabaseValue }) + [name])
        }
    }

    /// Runs `body` in one transaction with the file at `older` attached as `old`.
    private func attaching(_ older: String, _ body: (Database) throws -> Void) throws {
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS old", arguments: [older])
            try db.inTransaction {
                try body(db)
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE old")
        }
    }
}
