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

// Rotation re-seals every value of its fields: the per-record statements bind through SQLite
// directly (`BulkStatement`); values are packed in their records' rows (migration v12).

extension SQLiteTransaction: RotationReading, RotationWriting {
    package func rotations() throws -> [StoredRotation] {
        try StoredRotation.fetchAll(db, sql: "SELECT id, fields, started_by, started_at, finished_at, tag FROM key_rotations ORDER BY id")
    }

    package func nextRotationID() throws -> Int64 { try nextID(table: "key_rotations") }

    package func sealedValueCounts(_ entity: Entity, field: String) throws -> [UInt32: Int] {
        var counts: [UInt32: Int] = [:]
        try forEachSealedRecord(entity, after: 0) { _, entries in
            for entry in entries where entry.field == field { counts[UInt32(clamping: entry.keyVersion), default: 0] += 1 }
            return true
        }
        return counts
    }

    package func indexEntryCounts(field: String, unique: Bool) throws -> [UInt32: Int] {
        let select = try BulkStatement(db, sql: "SELECT key_version, count(*) FROM \(unique ? "unique_indexes" : "blind_indexes") WHERE field = ? GROUP BY key_version")
        try select.bind(1, field)
        var counts: [UInt32: Int] = [:]
        while try select.next() { counts[UInt32(clamping: select.int64(0)), default: 0] += Int(select.int64(1)) }
        return counts
    }

    package func sealedValueCountsBelow(_ entity: Entity, versions below: [String: UInt32]) throws -> [String: Int] {
        guard !below.isEmpty else { return [:] }
        // One scan of the entity's rows (no index on key versions is kept).
        var left: [String: Int] = [:]
        try forEachSealedRecord(entity, after: 0) { _, entries in
            for entry in entries {
                if let floor = below[entry.field], entry.keyVersion < Int64(floor) { left[entry.field, default: 0] += 1 }
            }
            return true
        }
        return left
    }

    package func sealedEntries(_ entity: Entity, after: Int64, limit: Int) throws -> [RecordSealedEntry] {
        var entries: [RecordSealedEntry] = []
        try forEachSealedRecord(entity, after: after) { id, sealed in
            entries += sealed.map { RecordSealedEntry(recordID: id, entry: $0) }
            return entries.count < limit
        }
        return entries
    }

    /// Calls `body` with each record of `entity` above `after` that has sealed values, in id order,
    /// until it returns false.
    private func forEachSealedRecord(_ entity: Entity, after: Int64, _ body: (Int64, [SealedEntry]) throws -> Bool) throws {
        let select = try BulkStatement(db, sql: "SELECT id, sealed FROM \(entity.rawValue) WHERE id > ? AND sealed IS NOT NULL ORDER BY id")
        try select.bind(1, after)
        defer { select.reset() }
        while try select.next() {
            let id = select.int64(0)
            guard try body(id, try Self.unpack(select, column: 1, place: "\(entity.rawValue) \(id)")) else { return }
        }
    }

    package func insertRotation(_ rotation: StoredRotation) throws {
        try db.execute(sql: "INSERT INTO key_rotations (id, fields, started_by, started_at, finished_at, tag) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [rotation.id, rotation.fields, rotation.startedBy, rotation.startedAt, rotation.finishedAt, rotation.tag.map { Data($0) }])
    }

    package func updateRotation(_ rotation: StoredRotation) throws {
        try db.execute(sql: "UPDATE key_rotations SET fields = ?, started_by = ?, started_at = ?, finished_at = ?, tag = ? WHERE id = ?",
                       arguments: [rotation.fields, rotation.startedBy, rotation.startedAt, rotation.finishedAt, rotation.tag.map { Data($0) }, rotation.id])
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
