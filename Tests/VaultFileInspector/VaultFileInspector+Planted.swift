import Foundation
import GRDB

/// SQL objects an attacker plants in the file, or vault objects it alters: they would run inside
/// the vault's own transactions, so the vault must refuse to open beside them.
extension VaultFileInspector {
    /// A trigger, view, index or table planted on one of the vault's tables.
    package struct Plant: Sendable {
        package let name: String
        let sql: String
    }

    /// Everything the sweep plants on `table` (whose first column is `column`): a trigger of each
    /// timing and event, a view, an index and a table.
    package static func plants(on table: String, column: String) -> [Plant] {
        var plants: [Plant] = []
        for timing in ["BEFORE", "AFTER"] {
            for event in ["INSERT", "UPDATE", "DELETE"] {
                let name = "planted_\(timing.lowercased())_\(event.lowercased())_\(table)"
                plants.append(Plant(name: name, sql: "CREATE TRIGGER \(name) \(timing) \(event) ON \(table) BEGIN SELECT 1; END"))
            }
        }
        plants.append(Plant(name: "planted_view_\(table)", sql: "CREATE VIEW planted_view_\(table) AS SELECT * FROM \(table)"))
        plants.append(Plant(name: "planted_index_\(table)", sql: "CREATE INDEX planted_index_\(table) ON \(table)(\(column))"))
        plants.append(Plant(name: "planted_table_\(table)", sql: "CREATE TABLE planted_table_\(table) (x)"))
        return plants
    }

    package func plant(_ plant: Plant) throws {
        try write { db in try db.execute(sql: plant.sql) }
    }

    /// Triggers the attack tests plant on the access log and on sealed values.
    package enum Trigger: Sendable {
        /// `quiet`: every access-log insert silently dropped.
        case silenceAccessLog
        /// `inject_audit_failure`: every access-log insert fails as a disk error would.
        case failAccessLogInserts
        /// `keep_copy`, with its table `shadow`: every deleted sealed value copied aside.
        case copyDeletedSealedValues

        var sql: String {
            switch self {
            case .silenceAccessLog: "CREATE TRIGGER quiet BEFORE INSERT ON audit_log BEGIN SELECT RAISE(IGNORE); END"
            case .failAccessLogInserts:
                "CREATE TRIGGER inject_audit_failure BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            case .copyDeletedSealedValues:
                """
                CREATE TABLE shadow (entity TEXT, record_id INTEGER, sealed BLOB);
                CREATE TRIGGER keep_copy AFTER UPDATE OF sealed ON customers BEGIN
                    INSERT INTO shadow VALUES ('customers', OLD.id, OLD.sealed);
                END;
                """
            }
        }
    }

    package func plant(_ trigger: Trigger) throws {
        try write { db in try db.execute(sql: trigger.sql) }
    }

    package func dropTrigger(_ name: String) throws {
        try write { db in try db.execute(sql: "DROP TRIGGER \(Self.quoted(name))") }
    }

    /// A vault object changed or removed in the file.
    package enum Alteration: String, CaseIterable, Sendable {
        /// `transactions_by_customer` made a partial index.
        case partialIndex = "partial index"
        /// `customers_drop_natural_keys` dropped.
        case triggerRemoved = "trigger removed"
        /// `transactions` given a column default, through the schema table itself.
        case tableRedefined = "table redefined"
        /// The record of the last migration deleted.
        case migrationForged = "migration forged"

        var sql: String {
            switch self {
            case .partialIndex:
                "DROP INDEX transactions_by_customer; CREATE INDEX transactions_by_customer ON transactions(customer_id) WHERE id > 0"
            case .triggerRemoved: "DROP TRIGGER customers_drop_natural_keys"
            case .tableRedefined:
                "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(sql, 'attributes  TEXT NOT NULL', 'attributes  TEXT NOT NULL DEFAULT ''{\"region\":\"EU\"}''') WHERE name = 'transactions'"
            case .migrationForged: "DELETE FROM grdb_migrations WHERE rowid = (SELECT max(rowid) FROM grdb_migrations)"
            }
        }
    }

    /// Applies the alteration outside a transaction (the schema table edit needs that).
    package func alter(_ alteration: Alteration) throws {
        try writer.writeWithoutTransaction { db in try db.execute(sql: alteration.sql) }
    }
}
