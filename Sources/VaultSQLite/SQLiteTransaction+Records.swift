import Foundation
import GRDB
package import VaultCore
package import VaultStore

// Record rows are read and written on every request and hundreds of thousands of times by
// imports and rotations, so they bind through SQLite directly (`BulkStatement`).

extension CustomerRow {
    package static let columns = "id, created_at, updated_at, attributes, erased_at, sealed_digest, index_digests, tag"

    /// Decodes a row selected with ``columns``.
    package static func decode(_ row: BulkStatement) throws -> CustomerRow {
        let id = row.int64(0)
        guard let digests = IndexDigests(encoded: row.bytes(6)) else {
            throw VaultError.integrity("customers \(id): its index digests are malformed (altered in the file)")
        }
        return CustomerRow(id: id, createdAt: row.text(1), updatedAt: row.text(2), attributes: row.text(3),
                           erasedAt: row.isNull(4) ? nil : row.text(4), sealedDigest: row.bytes(5), indexDigests: digests,
                           tag: row.isNull(7) ? nil : row.bytes(7))
    }

    fileprivate func bind(_ statement: BulkStatement) throws {
        try statement.bind(1, id)
        try statement.bind(2, createdAt)
        try statement.bind(3, updatedAt)
        try statement.bind(4, attributes)
        try statement.bind(5, optional: erasedAt)
        try statement.bind(6, sealedDigest)
        try statement.bind(7, indexDigests.encoded)
        try statement.bind(8, tag)
    }
}

extension HistoryRow {
    package static let columns = "id, customer_id, created_at, attributes, sealed_digest, tag"

    /// Decodes a row of `entity` selected with ``columns``.
    package static func decode(_ row: BulkStatement, entity: Entity) -> HistoryRow {
        HistoryRow(entity: entity, id: row.int64(0), customerID: row.int64(1), createdAt: row.text(2), attributes: row.text(3),
                   sealedDigest: row.bytes(4), tag: row.isNull(5) ? nil : row.bytes(5))
    }
}

extension SQLiteTransaction: RecordReading, RecordWriting {
    package func customerRow(id: Int64) throws -> CustomerRow? {
        let select = try BulkStatement(db, sql: "SELECT \(CustomerRow.columns) FROM customers WHERE id = ?")
        try select.bind(1, id)
        guard try select.next() else { return nil }
        defer { select.reset() }
        return try CustomerRow.decode(select)
    }

    package func forEachCustomerRow(_ body: (CustomerRow) throws -> Void) throws {
        let select = try BulkStatement(db, sql: "SELECT \(CustomerRow.columns) FROM customers ORDER BY id")
        defer { select.reset() }
        while try select.next() { try body(try CustomerRow.decode(select)) }
    }

    package func historyRow(_ entity: Entity, id: Int64) throws -> HistoryRow? {
        let select = try BulkStatement(db, sql: "SELECT \(HistoryRow.columns) FROM \(try historyTable(entity)) WHERE id = ?")
        try select.bind(1, id)
        guard try select.next() else { return nil }
        defer { select.reset() }
        return HistoryRow.decode(select, entity: entity)
    }

    package func historyRows(_ entity: Entity, customerID: Int64) throws -> [HistoryRow] {
        let select = try BulkStatement(db, sql: "SELECT \(HistoryRow.columns) FROM \(try historyTable(entity)) WHERE customer_id = ? ORDER BY id")
        try select.bind(1, customerID)
        var rows: [HistoryRow] = []
        while try select.next() { rows.append(HistoryRow.decode(select, entity: entity)) }
        return rows
    }

    package func forEachHistoryRow(_ entity: Entity, _ body: (HistoryRow) throws -> Void) throws {
        let select = try BulkStatement(db, sql: "SELECT \(HistoryRow.columns) FROM \(try historyTable(entity)) ORDER BY id")
        defer { select.reset() }
        while try select.next() { try body(HistoryRow.decode(select, entity: entity)) }
    }

    // Sealed values live in their record's row, packed (migration v12, ``PackedSealedEntries``).

    package func sealedEntries(_ entity: Entity, recordID: Int64) throws -> [SealedEntry] {
        let select = try BulkStatement(db, sql: "SELECT sealed FROM \(entity.rawValue) WHERE id = ?")
        try select.bind(1, recordID)
        guard try select.next() else { return [] }
        defer { select.reset() }
        return try Self.unpack(select, column: 0, place: "\(entity.rawValue) \(recordID)")
    }

    /// The packed sealed values in `column` of the current row (none for NULL).
    static func unpack(_ row: BulkStatement, column: Int32, place: String) throws -> [SealedEntry] {
        row.isNull(column) ? [] : try PackedSealedEntries.unpack(row.bytes(column), place: place)
    }

    /// Replaces a record's whole set of sealed values; returns whether the record exists.
    @discardableResult
    func storeSealed(_ entries: [SealedEntry], entity: Entity, recordID: Int64) throws -> Bool {
        let update = try BulkStatement(db, sql: "UPDATE \(entity.rawValue) SET sealed = ? WHERE id = ?")
        try update.bind(1, entries.isEmpty ? nil : try PackedSealedEntries.pack(entries))
        try update.bind(2, recordID)
        return try update.execute() == 1
    }

    package func insert(_ row: CustomerRow, sealed: [SealedEntry]) throws {
        let insert = try BulkStatement(db, sql: """
            INSERT INTO customers (id, created_at, updated_at, attributes, erased_at, sealed_digest, index_digests, tag, sealed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try row.bind(insert)
        try insert.bind(9, sealed.isEmpty ? nil : try PackedSealedEntries.pack(sealed))
        _ = try insert.execute()
    }

    package func insert(_ row: HistoryRow, sealed: [SealedEntry]) throws {
        let insert = try BulkStatement(db, sql: """
            INSERT INTO \(try historyTable(row.entity)) (id, customer_id, created_at, attributes, sealed_digest, tag, sealed) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.bind(1, row.id)
        try insert.bind(2, row.customerID)
        try insert.bind(3, row.createdAt)
        try insert.bind(4, row.attributes)
        try insert.bind(5, row.sealedDigest)
        try insert.bind(6, row.tag)
        try insert.bind(7, sealed.isEmpty ? nil : try PackedSealedEntries.pack(sealed))
        _ = try insert.execute()
    }

    @discardableResult
    package func update(_ row: CustomerRow, expectedTag: [UInt8]?, sealed: [SealedEntry]?) throws -> Bool {
        let update = try BulkStatement(db, sql: """
            UPDATE customers SET created_at = ?2, updated_at = ?3, attributes = ?4, erased_at = ?5, sealed_digest = ?6,
                index_digests = ?7, tag = ?8\(sealed == nil ? "" : ", sealed = ?10") WHERE id = ?1\(expectedTag == nil ? "" : " AND tag = ?9")
            """)
        try row.bind(update)
        if let expectedTag { try update.bind(9, expectedTag) }
        if let sealed { try update.bind(10, sealed.isEmpty ? nil : try PackedSealedEntries.pack(sealed)) }
        return try update.execute() == 1
    }

    @discardableResult
    package func update(_ row: HistoryRow, expectedTag: [UInt8]?, sealed: [SealedEntry]?) throws -> Bool {
        let update = try BulkStatement(db, sql: "UPDATE \(try historyTable(row.entity)) SET customer_id = ?1, attributes = ?2, sealed_digest = ?3, tag = ?4"
            + (sealed == nil ? "" : ", sealed = ?7") + " WHERE id = ?5" + (expectedTag == nil ? "" : " AND tag = ?6"))
        try update.bind(1, row.customerID)
        try update.bind(2, row.attributes)
        try update.bind(3, row.sealedDigest)
        try update.bind(4, row.tag)
        try update.bind(5, row.id)
        if let expectedTag { try update.bind(6, expectedTag) }
        if let sealed { try update.bind(7, sealed.isEmpty ? nil : try PackedSealedEntries.pack(sealed)) }
        return try update.execute() == 1
    }

    package func nextRecordID(_ entity: Entity) throws -> Int64 { try nextID(table: entity.rawValue) }

    package func indexHolders(field: String, unique: Bool, version: UInt32, digest: [UInt8]) throws -> [Int64] {
        let probe = try BulkStatement(db, sql: "SELECT customer_id FROM \(unique ? "unique_indexes" : "blind_indexes") WHERE field = ? AND key_version = ? AND digest = ?")
        try probe.bind(1, field)
        try probe.bind(2, Int64(version))
        try probe.bind(3, digest)
        var holders: [Int64] = []
        while try probe.next() { holders.append(probe.int64(0)) }
        return holders
    }

    package func writeSealedEntries(_ entries: [SealedEntry], entity: Entity, recordID: Int64) throws {
        guard !entries.isEmpty else { return }
        let replaced = Set(entries.map(\.field))
        let merged = try sealedEntries(entity, recordID: recordID).filter { !replaced.contains($0.field) } + entries
        guard try storeSealed(merged, entity: entity, recordID: recordID) else {
            throw VaultError.io("\(entity.rawValue) \(recordID) does not exist; its sealed values have no row to go to")
        }
    }

    package func insertIndexEntry(field: String, unique: Bool, version: UInt32, digest: [UInt8], customerID: Int64) throws {
        let insert = try BulkStatement(db, sql: "INSERT INTO \(unique ? "unique_indexes" : "blind_indexes") (field, key_version, digest, customer_id) VALUES (?, ?, ?, ?)")
        try insert.bind(1, field)
        try insert.bind(2, Int64(version))
        try insert.bind(3, digest)
        try insert.bind(4, customerID)
        _ = try insert.execute()
    }

    package func removeIndexEntry(field: String, unique: Bool, version: UInt32, digest: [UInt8], customerID: Int64) throws {
        _ = try deleteIndexEntry(table: unique ? "unique_indexes" : "blind_indexes", field: field, version: version, digest: digest, customerID: customerID)
    }

    /// Deletes one entry by primary key (the unique index's key has no customer; the customer
    /// must match all the same). Returns how many rows went.
    func deleteIndexEntry(table: String, field: String, version: UInt32, digest: [UInt8], customerID: Int64) throws -> Int {
        let delete = try BulkStatement(db, sql: "DELETE FROM \(table) WHERE field = ? AND key_version = ? AND digest = ? AND customer_id = ?")
        try delete.bind(1, field)
        try delete.bind(2, Int64(version))
        try delete.bind(3, digest)
        try delete.bind(4, customerID)
        return try delete.execute()
    }

    package func customerIDs(after: Int64, limit: Int) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit])
    }

    package func behaviour(customerID: Int64) throws -> StoredBehaviour? {
        guard let row = try Row.fetchOne(db, sql: "SELECT browse_count, purchase_count, review_count, updated_at, tag FROM behaviour WHERE customer_id = ?",
                                         arguments: [customerID]) else { return nil }
        return StoredBehaviour(customerID: customerID, browse: try row.checked("browse_count"), purchase: try row.checked("purchase_count"),
                               review: try row.checked("review_count"), updatedAt: try row.checked("updated_at"),
                               tag: (try row.checked("tag") as Data?).map { [UInt8]($0) })
    }

    package func forEachBehaviour(_ body: (StoredBehaviour) throws -> Void) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT customer_id, browse_count, purchase_count, review_count, updated_at, tag FROM behaviour")
        while let row = try rows.next() {
            try body(StoredBehaviour(customerID: try row.checked("customer_id"), browse: try row.checked("browse_count"),
                                     purchase: try row.checked("purchase_count"), review: try row.checked("review_count"),
                                     updatedAt: try row.checked("updated_at"), tag: (try row.checked("tag") as Data?).map { [UInt8]($0) }))
        }
    }

    package func forEachIndexEntry(field: String, unique: Bool, _ body: (UInt32, [UInt8], Int64) throws -> Void) throws {
        let select = try BulkStatement(db, sql: """
            SELECT key_version, digest, customer_id FROM \(unique ? "unique_indexes" : "blind_indexes") WHERE field = ? ORDER BY key_version, digest
            """)
        try select.bind(1, field)
        defer { select.reset() }
        while try select.next() { try body(UInt32(clamping: select.int64(0)), select.bytes(1), select.int64(2)) }
    }

    package func forEachIndexEntry(unique: Bool, _ body: (String, UInt32, [UInt8], Int64) throws -> Void) throws {
        let select = try BulkStatement(db, sql: "SELECT field, key_version, digest, customer_id FROM \(unique ? "unique_indexes" : "blind_indexes")")
        defer { select.reset() }
        while try select.next() { try body(select.text(0), UInt32(clamping: select.int64(1)), select.bytes(2), select.int64(3)) }
    }

    package func historyOwners(_ entity: Entity, after: Int64, limit: Int) throws -> [(id: Int64, customerID: Int64)] {
        try Row.fetchAll(db, sql: "SELECT id, customer_id FROM \(try historyTable(entity)) WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit])
            .map { (id: try $0.checked("id"), customerID: try $0.checked("customer_id")) }
    }

    package func behaviourOwners(after: Int64, limit: Int) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT customer_id FROM behaviour WHERE customer_id > ? ORDER BY customer_id LIMIT ?", arguments: [after, limit])
    }

    package func deleteHistoryRows(_ entity: Entity, ids: [Int64]) throws {
        // Their sealed values go with their rows; triggers drop their natural-key entries (v9).
        let table = try historyTable(entity)
        for batch in stride(from: 0, to: ids.count, by: 500) {
            let chunk = ids[batch..<min(ids.count, batch + 500)]
            try db.execute(sql: "DELETE FROM \(table) WHERE id IN (\(chunk.map(String.init).joined(separator: ",")))")
        }
    }

    package func deleteSealedEntry(_ entity: Entity, recordID: Int64, field: String) throws {
        let entries = try sealedEntries(entity, recordID: recordID)
        guard entries.contains(where: { $0.field == field }) else { return }
        try storeSealed(entries.filter { $0.field != field }, entity: entity, recordID: recordID)
    }

    @discardableResult
    package func deleteCustomer(id: Int64) throws -> Bool {
        // Index entries by the digests the row commits to (no by-customer index: migration v11);
        // foreign keys cascade to history, behaviour and consent events; sealed values are in the
        // rows; triggers drop natural keys (migration v9).
        _ = try deleteIndexEntries(customerID: id)
        try db.execute(sql: "DELETE FROM customers WHERE id = ?", arguments: [id])
        return db.changesCount == 1
    }

    package func writeBehaviour(_ behaviour: StoredBehaviour) throws {
        try db.execute(sql: """
            INSERT INTO behaviour (customer_id, browse_count, purchase_count, review_count, updated_at, tag) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (customer_id) DO UPDATE SET browse_count = excluded.browse_count, purchase_count = excluded.purchase_count,
                review_count = excluded.review_count, updated_at = excluded.updated_at, tag = excluded.tag
            """, arguments: [behaviour.customerID, behaviour.browse, behaviour.purchase, behaviour.review, behaviour.updatedAt,
                             behaviour.tag.map { Data($0) }])
    }

}
