import Foundation
import GRDB

/// The file's tables, SQLite's own checks and the connection settings.
extension VaultFileInspector {
    /// SQLite's table of `AUTOINCREMENT` counters, which the vault keeps beside its own tables.
    package static let sequenceTable = "sqlite_sequence"

    /// The vault's tables by name, without SQLite's internal ones.
    package func tables() throws -> [String] {
        try read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name") }
    }

    /// Every table by name, SQLite's `sqlite_sequence` included (not the planner's statistics).
    package func tablesWithSequence() throws -> [String] {
        try read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_stat1' ORDER BY name") }
    }

    /// The columns of `table`, in order.
    package func columns(of table: String) throws -> [String] {
        try reading(table) { try $0.columns(in: table).map(\.name) }
    }

    /// Every schema object (type, name, table and definition), by name: to compare before and after.
    package func schemaObjects() throws -> [String] {
        try read { try Row.fetchAll($0, sql: "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").map { "\($0)" } }
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a sound file.
    package func integrityCheck() throws -> [String] {
        try read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }
    }

    /// The first line of `PRAGMA integrity_check` ("ok" for a sound file).
    package func integrity() throws -> String? { try integrityCheck().first }

    /// Rows that break a foreign key (`PRAGMA foreign_key_check`): the table of each.
    package func foreignKeyViolations() throws -> [String] {
        try read { try Row.fetchAll($0, sql: "PRAGMA foreign_key_check").map { $0[0] as String? ?? "?" } }
    }

    /// The settings of the connection that writes (synchronous, secure_delete, journal mode): they are
    /// per connection, so this needs `init(store:)`, the vault's own.
    package func writerSettings() throws -> (synchronous: Int?, secureDelete: Int?, journalMode: String?) {
        try write { db in
            (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try Int.fetchOne(db, sql: "PRAGMA secure_delete"),
             try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
    }

    /// Makes an SQLite database that is no vault: one table, nothing else.
    package static func createForeignDatabase(at path: String) throws {
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE t (x)") }
    }
}
