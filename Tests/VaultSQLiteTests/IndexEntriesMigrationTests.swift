import Foundation
import GRDB
import Testing
import VaultCore
import VaultTestSupport
@testable import VaultSQLite

/// Migration v11 (issue #19): the blind-index tables lose their by-customer secondary indexes and
/// foreign keys, keep every entry a customer's row commits to, and drop the entries an unfinished
/// rotation of an older release had superseded.
@Suite("Migration v11: index entries by primary key only")
struct IndexEntriesMigrationTests {
    @Test("a v10 vault mid-rotation migrates: current entries kept, superseded ones dropped, no secondary index or foreign key left")
    func migratesAVaultMidRotation() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("v10.vault")
        let queue = try DatabaseQueue(path: path, configuration: VaultDatabase.configuration())
        try Migrations.migrator.migrate(queue, upTo: "v10-upsert")
        // Customers 1–3; customer 1 re-indexed by a rotation (v1 and v2 entries of each field),
        // customer 2 not yet (v1 only), customer 3 with a name shared with customer 2.
        let entries: [(table: String, field: String, version: Int, digest: [UInt8], customer: Int64)] = [
            ("unique_indexes", "email", 1, [1, 1], 1), ("unique_indexes", "email", 2, [1, 2], 1),
            ("blind_indexes", "name", 1, [9], 1), ("blind_indexes", "name", 2, [8], 1),
            ("unique_indexes", "email", 1, [2, 1], 2), ("blind_indexes", "name", 1, [7], 2),
            ("blind_indexes", "name", 1, [7], 3), ("unique_indexes", "email", 2, [3, 2], 3),
        ]
        try await queue.write { db in
            for id: Int64 in 1...3 {
                try db.execute(sql: "INSERT INTO customers (id, created_at, updated_at, attributes) VALUES (?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '{}')",
                               arguments: [id])
            }
            for entry in entries {
                try db.execute(sql: "INSERT INTO \(entry.table) (field, key_version, digest, customer_id) VALUES (?, ?, ?, ?)",
                               arguments: [entry.field, entry.version, Data(entry.digest), entry.customer])
            }
        }
        try queue.close()

        let store = try SQLiteStore.open(path: path)
        defer { try? store.close() }
        let pool = try store.pool
        let left = try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT 'unique_indexes' AS t, field, key_version, digest, customer_id FROM unique_indexes
                UNION ALL SELECT 'blind_indexes', field, key_version, digest, customer_id FROM blind_indexes ORDER BY 1, 2, 3, 5
                """).map { "\($0["t"] as String) \($0["field"] as String) v\($0["key_version"] as Int) \([UInt8]($0["digest"] as Data)) #\($0["customer_id"] as Int64)" }
        }
        #expect(left == ["blind_indexes name v1 [7] #2", "blind_indexes name v1 [7] #3", "blind_indexes name v2 [8] #1",
                         "unique_indexes email v1 [2, 1] #2", "unique_indexes email v2 [1, 2] #1", "unique_indexes email v2 [3, 2] #3"])
        let (secondary, foreignKeys) = try await pool.read { db in
            (try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('blind_indexes', 'unique_indexes') AND sql IS NOT NULL"),
             try Row.fetchAll(db, sql: "SELECT * FROM pragma_foreign_key_list('blind_indexes') UNION ALL SELECT * FROM pragma_foreign_key_list('unique_indexes')").count)
        }
        #expect(secondary.isEmpty && foreignKeys == 0, "secondary indexes \(secondary), foreign keys \(foreignKeys)")
        // Lookups by digest and removal by exact entry work on the migrated tables.
        let (holders, afterRemoval) = try await store.write { tx in
            let holders = try tx.indexHolders(field: "name", unique: false, version: 1, digest: [7]).sorted()
            try tx.removeIndexEntry(field: "name", unique: false, version: 1, digest: [7], customerID: 2)
            return (holders, try tx.indexHolders(field: "name", unique: false, version: 1, digest: [7]))
        }
        #expect(holders == [2, 3] && afterRemoval == [3])
        #expect(try await pool.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") } == ["ok"])
    }
}
