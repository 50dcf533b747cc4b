import Foundation
import GRDB
import VaultStore
import VaultSQLite

/// Writes a copy of a vault in the layout of migration v10 (before issue #19: one
/// `sealed_values` row per value, by-customer index entries), holding the same rows, as the
/// release before that layout change made them. The schema comes from the migrations themselves,
/// so the copy passes the schema check of an open, which then migrates it again.
package enum LayoutDowngrade {
    package static let before = "v10-upsert"

    package static func copy(_ source: String, toV10 target: String) throws {
        let queue = try DatabaseQueue(path: target)
        try Migrations.migrator.migrate(queue, upTo: before)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "ATTACH DATABASE ? AS current", arguments: [source])
            try db.inTransaction {
                let tables = try String.fetchAll(db, sql: """
                    SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT IN ('sqlite_sequence', 'grdb_migrations', 'sealed_values')
                    """)
                for table in tables {
                    let columns = try db.columns(in: table, in: "main").map { $0.name.quotedDatabaseIdentifier }.joined(separator: ", ")
                    try db.execute(sql: "INSERT INTO main.\(table.quotedDatabaseIdentifier) (\(columns)) SELECT \(columns) FROM current.\(table.quotedDatabaseIdentifier)")
                }
                for entity in ["customers", "transactions", "interactions"] {
                    for row in try Row.fetchAll(db, sql: "SELECT id, sealed FROM current.\(entity) WHERE sealed IS NOT NULL") {
                        let id: Int64 = row["id"]
                        for entry in try PackedSealedEntries.unpack([UInt8](row["sealed"] as Data), place: "\(entity) \(id)") {
                            try db.execute(sql: "INSERT INTO main.sealed_values (entity, record_id, field, key_version, sealed, masked) VALUES (?, ?, ?, ?, ?, ?)",
                                           arguments: [entity, id, entry.field, entry.keyVersion, Data(entry.sealed), entry.masked.map { Data($0) }])
                        }
                    }
                }
                try db.execute(sql: "DELETE FROM main.sqlite_sequence")
                try db.execute(sql: "INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM current.sqlite_sequence")
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE current")
        }
        try queue.close()
    }

    /// Every row of every table of a vault as text (sealed values unpacked, in a stable order),
    /// for comparing two files record by record.
    package static func contents(_ path: String, auditThrough: Int64? = nil) throws -> [String: [String]] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            var contents: [String: [String]] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sqlite_sequence', 'grdb_migrations')") {
                let hasSealed = try ["customers", "transactions", "interactions"].contains(table) && db.columns(in: table).contains { $0.name == "sealed" }
                let filter = table == "audit_log" ? auditThrough.map { " WHERE seq <= \($0)" } ?? "" : ""
                contents[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table.quotedDatabaseIdentifier)\(filter)").map { row in
                    var text = row.columnNames.filter { $0 != "sealed" }.map { "\($0)=\(row[$0] as DatabaseValue)" }.joined(separator: " ")
                    if hasSealed, let sealed = row["sealed"] as Data? {
                        text += " sealed=" + (try PackedSealedEntries.unpack([UInt8](sealed), place: table)).map { "\($0)" }.joined(separator: ",")
                    }
                    return text
                }.sorted()
            }
            return contents
        }
    }
}
