import Foundation
import GRDB
import VaultCore
import VaultStore

/// Migration v12 (issue #19): every sealed value moves from `sealed_values` (one row per field
/// and record) into its record's own row, packed (``PackedSealedEntries``), and the table goes.
///
/// Envelopes are moved byte for byte: what each record's row commits to (its sealed digest, under
/// its tag) is unchanged, so no key is needed and nothing is re-tagged. It runs in the migration's
/// one transaction: a kill leaves the old layout whole, and the next open starts it again. Values
/// whose record does not exist (which the old layout's integrity check named as planted) have no
/// row to go to and are dropped.
enum RecordRowsMigration {
    static let entities = ["customers", "transactions", "interactions"]

    static func run(_ db: Database, progress: Migrations.Progress?) throws {
        for table in entities { try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN sealed BLOB") }
        let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM sealed_values") ?? 0
        let step = "moving \(total) sealed values into their records' rows"
        progress?(step, 0, total)
        let select = try BulkStatement(db, sql: "SELECT entity, record_id, field, key_version, sealed, masked FROM sealed_values ORDER BY entity, record_id, field")
        var current: (entity: String, id: Int64)?
        var entries: [SealedEntry] = []
        var done = 0
        func flush() throws {
            guard let record = current, entities.contains(record.entity) else { return }
            let update = try BulkStatement(db, sql: "UPDATE \(record.entity) SET sealed = ? WHERE id = ?")
            try update.bind(1, try PackedSealedEntries.pack(entries))
            try update.bind(2, record.id)
            _ = try update.execute()
        }
        while try select.next() {
            let entity = select.text(0), id = select.int64(1)
            if current.map({ $0.entity != entity || $0.id != id }) ?? true {
                try flush()
                current = (entity, id)
                entries.removeAll(keepingCapacity: true)
            }
            entries.append(SealedEntry(field: select.text(2), keyVersion: select.int64(3), sealed: select.bytes(4),
                                       masked: select.isNull(5) ? nil : select.bytes(5)))
            done += 1
            if done % 20_000 == 0 { progress?(step, done, total) }
        }
        try flush()
        select.reset()
        try db.execute(sql: """
            DROP TRIGGER customers_drop_sealed;
            DROP TRIGGER transactions_drop_sealed;
            DROP TRIGGER interactions_drop_sealed;
            DROP TABLE sealed_values;
            """)
        progress?(step, total, total)
    }
}
