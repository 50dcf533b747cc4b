import Foundation
package import GRDB
package import VaultCore
package import VaultStore

extension StoredRotation: FetchableRecord {
    package init(row: Row) throws {
        self.init(id: try row.checked("id"), fields: try row.checked("fields"), startedBy: try row.checked("started_by"),
                  startedAt: try row.checked("started_at"), finishedAt: try row.checked("finished_at"),
                  tag: (try row.checked("tag") as Data?).map { [UInt8]($0) })
    }
}

// Rotation re-seals every value of its fields: the per-value statements bind through SQLite
// directly (`BulkStatement`).

extension SQLiteTransaction: RotationReading, RotationWriting {
    package func rotations() throws -> [StoredRotation] {
        try StoredRotation.fetchAll(db, sql: "SELECT id, fields, started_by, started_at, finished_at, tag FROM key_rotations ORDER BY id")
    }

    package func nextRotationID() throws -> Int64 { try nextID(table: "key_rotations") }

    package func sealedValueCounts(_ entity: Entity, field: String) throws -> [UInt32: Int] {
        try versionCounts(sql: "SELECT key_version, count(*) FROM sealed_values WHERE entity = ? AND field = ? GROUP BY key_version",
                          entity.rawValue, field)
    }

    package func indexEntryCounts(field: String, unique: Bool) throws -> [UInt32: Int] {
        try versionCounts(sql: "SELECT key_version, count(*) FROM \(unique ? "unique_indexes" : "blind_indexes") WHERE field = ? GROUP BY key_version", field)
    }

    private func versionCounts(sql: String, _ arguments: String...) throws -> [UInt32: Int] {
        let select = try BulkStatement(db, sql: sql)
        for (offset, argument) in arguments.enumerated() { try select.bind(Int32(offset + 1), argument) }
        var counts: [UInt32: Int] = [:]
        while try select.next() { counts[UInt32(clamping: select.int64(0)), default: 0] += Int(select.int64(1)) }
        return counts
    }

    package func sealedValueCountsBelow(_ entity: Entity, versions below: [String: UInt32]) throws -> [String: Int] {
        guard !below.isEmpty else { return [:] }
        // Only the rows still under an older version reach the grouping (at the end of a rotation,
        // none), instead of every row being sorted by field and version; no index on key versions
        // is kept (migration v5), so this is one scan of the entity's values.
        let targets = below.sorted { $0.key < $1.key }
        let older = Array(repeating: "(field = ? AND key_version < ?)", count: targets.count).joined(separator: " OR ")
        let count = try BulkStatement(db, sql: "SELECT field, count(*) FROM sealed_values WHERE entity = ? AND (\(older)) GROUP BY field")
        try count.bind(1, entity.rawValue)
        for (offset, target) in targets.enumerated() {
            try count.bind(Int32(2 + 2 * offset), target.key)
            try count.bind(Int32(3 + 2 * offset), Int64(target.value))
        }
        var left: [String: Int] = [:]
        while try count.next() { left[count.text(0), default: 0] += Int(count.int64(1)) }
        return left
    }

    package func sealedEntries(_ entity: Entity, after: Int64, limit: Int) throws -> [RecordSealedEntry] {
        let select = try BulkStatement(db, sql: """
            SELECT record_id, field, key_version, sealed, masked FROM sealed_values
            WHERE entity = ? AND record_id > ? ORDER BY record_id, field LIMIT ?
            """)
        try select.bind(1, entity.rawValue)
        try select.bind(2, after)
        try select.bind(3, Int64(limit))
        var entries: [RecordSealedEntry] = []
        while try select.next() {
            entries.append(RecordSealedEntry(recordID: select.int64(0), entry: SealedEntry(field: select.text(1), keyVersion: select.int64(2),
                                                                                         sealed: select.bytes(3), masked: select.isNull(4) ? nil : select.bytes(4))))
        }
        return entries
    }

    package func insertRotation(_ rotation: StoredRotation) throws {
        try db.execute(sql: "INSERT INTO key_rotations (id, fields, started_by, started_at, finished_at, tag) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [rotation.id, rotation.fields, rotation.startedBy, rotation.startedAt, rotation.finishedAt, rotation.tag.map { Data($0) }])
    }

    package func updateRotation(_ rotation: StoredRotation) throws {
        try db.execute(sql: "UPDATE key_rotations SET fields = ?, started_by = ?, started_at = ?, finished_at = ?, tag = ? WHERE id = ?",
                       arguments: [rotation.fields, rotation.startedBy, rotation.startedAt, rotation.finishedAt, rotation.tag.map { Data($0) }, rotation.id])
    }

    package func replaceSealedEntry(_ entity: Entity, recordID: Int64, with entry: SealedEntry, ifStill previous: [UInt8]) throws -> Bool {
        let update = try BulkStatement(db, sql: """
            UPDATE sealed_values SET key_version = ?, sealed = ?, masked = ?
            WHERE entity = ? AND record_id = ? AND field = ? AND sealed = ?
            """)
        try update.bind(1, entry.keyVersion)
        try update.bind(2, entry.sealed)
        try update.bind(3, entry.masked)
        try update.bind(4, entity.rawValue)
        try update.bind(5, recordID)
        try update.bind(6, entry.field)
        try update.bind(7, previous)
        return try update.execute() == 1
    }

    package func addIndexEntry(field: String, unique: Bool, version: UInt32, digest: [UInt8], customerID: Int64) throws -> Int64? {
        let insert = try BulkStatement(db, sql: unique
            ? "INSERT INTO unique_indexes (field, key_version, digest, customer_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
            : "INSERT OR IGNORE INTO blind_indexes (field, key_version, digest, customer_id) VALUES (?, ?, ?, ?)")
        try insert.bind(1, field)
        try insert.bind(2, Int64(version))
        try insert.bind(3, digest)
        try insert.bind(4, customerID)
        guard try insert.execute() == 0, unique else { return nil }
        let holder = try indexHolders(field: field, unique: true, version: version, digest: digest).first
        return holder == customerID ? nil : holder
    }

    package func removeIndexEntries(below floors: [IndexVersionFloor]) throws {
        // A range of each index's primary key (field, key_version, …): no secondary index to keep.
        for floor in floors {
            try db.execute(sql: "DELETE FROM \(floor.unique ? "unique_indexes" : "blind_indexes") WHERE field = ? AND key_version < ?",
                           arguments: [floor.field, floor.version])
        }
    }
}
