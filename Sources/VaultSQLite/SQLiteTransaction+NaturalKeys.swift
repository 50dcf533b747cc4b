import GRDB
package import VaultCore
package import VaultStore

extension SQLiteTransaction: NaturalKeyReading, NaturalKeyWriting {
    package func naturalKeyHolder(_ entity: Entity, field: String, value: String) throws -> Int64? {
        // Asked for every imported row with a natural key: bound through SQLite directly.
        let select = try BulkStatement(db, sql: "SELECT record_id FROM natural_keys WHERE entity = ? AND field = ? AND value = ?")
        try select.bind(1, entity.rawValue)
        try select.bind(2, field)
        try select.bind(3, value)
        guard try select.next() else { return nil }
        defer { select.reset() }
        return select.int64(0)
    }

    package func naturalKeyEntries() throws -> [NaturalKeyEntry] {
        try Row.fetchAll(db, sql: "SELECT entity, field, value, record_id FROM natural_keys").map { row in
            guard let entity = Entity(rawValue: try row.checked("entity")) else {
                throw VaultError.integrity("natural_keys: an entry names an unknown entity (altered in the file)")
            }
            return NaturalKeyEntry(entity: entity, field: try row.checked("field"), value: try row.checked("value"), recordID: try row.checked("record_id"))
        }
    }

    package func insertNaturalKey(_ entry: NaturalKeyEntry) throws {
        let insert = try BulkStatement(db, sql: "INSERT INTO natural_keys (entity, field, value, record_id) VALUES (?, ?, ?, ?)")
        try insert.bind(1, entry.entity.rawValue)
        try insert.bind(2, entry.field)
        try insert.bind(3, entry.value)
        try insert.bind(4, entry.recordID)
        _ = try insert.execute()
    }

    package func deleteNaturalKey(_ entity: Entity, field: String, recordID: Int64) throws {
        let delete = try BulkStatement(db, sql: "DELETE FROM natural_keys WHERE entity = ? AND field = ? AND record_id = ?")
        try delete.bind(1, entity.rawValue)
        try delete.bind(2, field)
        try delete.bind(3, recordID)
        _ = try delete.execute()
    }
}
