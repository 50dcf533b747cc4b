import Foundation
import GRDB
import VaultStore

/// The sealed values as the table they were before issue #19 (one row per record and field):
/// the vault now keeps each record's values packed in its own row (`sealed`, migration v12), and
/// attacks on single values are easiest to say per value. Before an operation that names
/// `sealed_values`, the inspector builds `temp.sealed_values (entity, record_id, field,
/// key_version, sealed, masked)` from the rows; after an edit it packs every record's values
/// back into its row (`PackedSealedEntries`, bytes as the vault writes them). TEMP objects live on
/// this connection only, never in the file.
extension VaultFileInspector {
    /// The per-value view of the sealed values (a TEMP table of this connection, see above).
    package static let sealedValues = "sealed_values"
    static let recordTables = ["customers", "transactions", "interactions"]

    /// Runs `body` with `temp.sealed_values` built from the file; with `writing`, what `body`
    /// changed in it is packed back into the records' rows, in the same transaction.
    func withSealedValues<T>(writing: Bool, _ body: (Database) throws -> T) throws -> T {
        // A file in the layout before v12 (not opened by this release yet) has the real table.
        if try read({ try $0.tableExists(Self.sealedValues, in: "main") }) {
            return writing ? try write(body) : try read(body)
        }
        // A deferred transaction: a read-only connection may still build TEMP tables.
        return try writer.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.deferred) {
                try Self.buildSealedValues(db)
                defer { try? db.execute(sql: "DROP TABLE temp.sealed_values") }
                result = try body(db)
                if writing { try Self.packSealedValues(db) }
                return .commit
            }
            return result!
        }
    }

    /// Whether an operation on `table` (or SQL mentioning it) needs the per-value view.
    static func needsSealedValues(_ text: String) -> Bool { text.contains(sealedValues) }

    static func buildSealedValues(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TEMP TABLE sealed_values (entity TEXT NOT NULL, record_id INTEGER NOT NULL, field TEXT NOT NULL,
                key_version INTEGER NOT NULL, sealed BLOB NOT NULL, masked BLOB, PRIMARY KEY (entity, record_id, field))
            """)
        for entity in recordTables {
            for row in try Row.fetchAll(db, sql: "SELECT id, sealed FROM main.\(entity) WHERE sealed IS NOT NULL ORDER BY id") {
                let id: Int64 = row["id"]
                for entry in try PackedSealedEntries.unpack([UInt8](row["sealed"] as Data), place: "\(entity) \(id)") {
                    try db.execute(sql: "INSERT INTO temp.sealed_values VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: [entity, id, entry.field, entry.keyVersion, Data(entry.sealed), entry.masked.map { Data($0) }])
                }
            }
        }
    }

    /// Packs `temp.sealed_values` back into every record's row (a record left without values gets none).
    static func packSealedValues(_ db: Database) throws {
        for entity in recordTables {
            var byRecord: [Int64: [SealedEntry]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT record_id, field, key_version, sealed, masked FROM temp.sealed_values WHERE entity = ?",
                                        arguments: [entity]) {
                byRecord[row["record_id"], default: []].append(SealedEntry(field: row["field"], keyVersion: row["key_version"],
                                                                           sealed: [UInt8](row["sealed"] as Data),
                                                                           masked: (row["masked"] as Data?).map { [UInt8]($0) }))
            }
            for id in try Int64.fetchAll(db, sql: "SELECT id FROM main.\(entity)") {
                let packed = try byRecord[id].map { try PackedSealedEntries.pack($0) }
                let stored = try Data.fetchOne(db, sql: "SELECT sealed FROM main.\(entity) WHERE id = ?", arguments: [id])
                if stored.map([UInt8].init) != packed {
                    try db.execute(sql: "UPDATE main.\(entity) SET sealed = ? WHERE id = ?", arguments: [packed.map { Data($0) }, id])
                }
            }
        }
    }
}

extension VaultFileInspector {
    /// How many sealed values the records' rows hold under a key version of at least
    /// `minimumVersion`: a scan of the rows (no per-value table), cheap enough to poll.
    package func sealedValueCount(minimumVersion: Int64 = 0) throws -> Int {
        try read { db in
            if try db.tableExists(Self.sealedValues, in: "main") {
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM sealed_values WHERE key_version >= ?", arguments: [minimumVersion]) ?? 0
            }
            var count = 0
            for entity in Self.recordTables {
                let rows = try Row.fetchCursor(db, sql: "SELECT id, sealed FROM \(entity) WHERE sealed IS NOT NULL")
                while let row = try rows.next() {
                    let entries = try PackedSealedEntries.unpack([UInt8](row["sealed"] as Data), place: "\(entity) \(row["id"] as Int64)")
                    count += entries.filter { $0.keyVersion >= minimumVersion }.count
                }
            }
            return count
        }
    }

    /// Whether the file still has the layout before migration v12 (a `sealed_values` table).
    package func hasPerValueLayout() throws -> Bool {
        try read { try $0.tableExists(Self.sealedValues, in: "main") }
    }
}
