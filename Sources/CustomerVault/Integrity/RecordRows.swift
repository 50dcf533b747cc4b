import Foundation
import GRDB
import VaultSQLite
import VaultCore

/// A `customers` row as stored: what its tag covers, and the tag.
struct CustomerRow: Sendable {
    var id: Int64
    var createdAt: String
    var updatedAt: String
    /// The plain attributes as stored (sorted flat JSON).
    var attributes: String
    var erasedAt: String?
    var sealedDigest: [UInt8]
    var indexDigests: IndexDigests
    var tag: [UInt8]?

    var place: String { "customers \(id)" }

    static let columns = "id, created_at, updated_at, attributes, erased_at, sealed_digest, index_digests, tag"

    /// The row of customer `id` as it is in the file, unchecked; nil when there is none.
    static func fetch(_ id: Int64, db: Database) throws -> CustomerRow? {
        let select = try BulkStatement(db, sql: "SELECT \(columns) FROM customers WHERE id = ?")
        try select.bind(1, id)
        guard try select.next() else { return nil }
        defer { select.reset() }
        return try decode(select)
    }

    static func decode(_ row: BulkStatement) throws -> CustomerRow {
        let id = row.int64(0)
        guard let digests = IndexDigests(encoded: row.bytes(6)) else {
            throw VaultError.integrity("customers \(id): its index digests are malformed (altered in the file)")
        }
        return CustomerRow(id: id, createdAt: row.text(1), updatedAt: row.text(2), attributes: row.text(3),
                           erasedAt: row.isNull(4) ? nil : row.text(4), sealedDigest: row.bytes(5), indexDigests: digests,
                           tag: row.isNull(7) ? nil : row.bytes(7))
    }

    /// Throws an integrity error unless the stored tag matches the row.
    func verify(_ integrity: RecordIntegrity) throws {
        try RecordIntegrity.check(tag, try integrity.customer(self), place)
    }

    /// The decoded plain attributes.
    func decodedAttributes() throws -> [String: String] {
        try RecordCodec.decodeAttributes(attributes, entity: .customers, id: id)
    }

    /// Recomputes the tag (after a change the caller has checked it may make).
    mutating func retag(_ integrity: RecordIntegrity) throws { tag = try integrity.customer(self) }

    func insert(_ db: Database) throws {
        let insert = try BulkStatement(db, sql: """
            INSERT INTO customers (id, created_at, updated_at, attributes, erased_at, sealed_digest, index_digests, tag)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try bind(insert)
        try insert.execute()
    }

    /// Writes every column but the id; with `expectedTag`, only if the stored tag is still that one.
    @discardableResult
    func update(_ db: Database, expectedTag: [UInt8]? = nil) throws -> Bool {
        let update = try BulkStatement(db, sql: expectedTag == nil ? """
            UPDATE customers SET created_at = ?2, updated_at = ?3, attributes = ?4, erased_at = ?5, sealed_digest = ?6,
                index_digests = ?7, tag = ?8 WHERE id = ?1
            """ : """
            UPDATE customers SET created_at = ?2, updated_at = ?3, attributes = ?4, erased_at = ?5, sealed_digest = ?6,
                index_digests = ?7, tag = ?8 WHERE id = ?1 AND tag = ?9
            """)
        try bind(update)
        if let expectedTag { try update.bind(9, expectedTag) }
        return try update.execute() == 1
    }

    private func bind(_ statement: BulkStatement) throws {
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

/// A `transactions` or `interactions` row as stored.
struct HistoryRow: Sendable {
    var entity: Entity
    var id: Int64
    var customerID: Int64
    var createdAt: String
    var attributes: String
    var sealedDigest: [UInt8]
    var tag: [UInt8]?

    var place: String { "\(entity.rawValue) \(id)" }

    static let columns = "id, customer_id, created_at, attributes, sealed_digest, tag"

    static func decode(_ row: BulkStatement, entity: Entity) -> HistoryRow {
        HistoryRow(entity: entity, id: row.int64(0), customerID: row.int64(1), createdAt: row.text(2), attributes: row.text(3),
                   sealedDigest: row.bytes(4), tag: row.isNull(5) ? nil : row.bytes(5))
    }

    /// Every row of `entity` owned by `customerID`, oldest first, each checked against its tag.
    static func fetchVerified(_ entity: Entity, customerID: Int64, integrity: RecordIntegrity, db: Database) throws -> [HistoryRow] {
        let select = try BulkStatement(db, sql: "SELECT \(columns) FROM \(entity.rawValue) WHERE customer_id = ? ORDER BY id")
        try select.bind(1, customerID)
        var rows: [HistoryRow] = []
        while try select.next() { rows.append(decode(select, entity: entity)) }
        for row in rows { try row.verify(integrity) }
        return rows
    }

    /// The row `id` of `entity` checked against its tag; nil when there is none.
    static func fetchVerified(_ entity: Entity, id: Int64, integrity: RecordIntegrity, db: Database) throws -> HistoryRow? {
        let select = try BulkStatement(db, sql: "SELECT \(columns) FROM \(entity.rawValue) WHERE id = ?")
        try select.bind(1, id)
        guard try select.next() else { return nil }
        defer { select.reset() }
        let row = decode(select, entity: entity)
        try row.verify(integrity)
        return row
    }

    /// Every row of `entity`, each checked against its tag, in id order (a cursor: memory stays flat).
    static func forEachVerified(_ entity: Entity, integrity: RecordIntegrity, db: Database, _ body: (HistoryRow) throws -> Void) throws {
        let select = try BulkStatement(db, sql: "SELECT \(columns) FROM \(entity.rawValue) ORDER BY id")
        while try select.next() {
            let row = decode(select, entity: entity)
            try row.verify(integrity)
            try body(row)
        }
    }

    /// Throws an integrity error unless the stored tag matches the row (its owner included).
    func verify(_ integrity: RecordIntegrity) throws {
        try RecordIntegrity.check(tag, try integrity.history(self), place)
    }

    func decodedAttributes() throws -> [String: String] {
        try RecordCodec.decodeAttributes(attributes, entity: entity, id: id)
    }

    mutating func retag(_ integrity: RecordIntegrity) throws { tag = try integrity.history(self) }

    func insert(_ db: Database) throws {
        let insert = try BulkStatement(db, sql: """
            INSERT INTO \(entity.rawValue) (id, customer_id, created_at, attributes, sealed_digest, tag) VALUES (?, ?, ?, ?, ?, ?)
            """)
        try insert.bind(1, id)
        try insert.bind(2, customerID)
        try insert.bind(3, createdAt)
        try insert.bind(4, attributes)
        try insert.bind(5, sealedDigest)
        try insert.bind(6, tag)
        try insert.execute()
    }

    /// Writes owner, attributes, digest and tag; with `expectedTag`, only if the stored tag is still that one.
    @discardableResult
    func update(_ db: Database, expectedTag: [UInt8]? = nil) throws -> Bool {
        let update = try BulkStatement(db, sql: "UPDATE \(entity.rawValue) SET customer_id = ?, attributes = ?, sealed_digest = ?, tag = ? WHERE id = ?"
            + (expectedTag == nil ? "" : " AND tag = ?"))
        try update.bind(1, customerID)
        try update.bind(2, attributes)
        try update.bind(3, sealedDigest)
        try update.bind(4, tag)
        try update.bind(5, id)
        if let expectedTag { try update.bind(6, expectedTag) }
        return try update.execute() == 1
    }
}

/// The stored sealed values of one record, read without opening them.
enum SealedEntries {
    static func fetch(_ entity: Entity, recordID: Int64, db: Database) throws -> [RecordIntegrity.SealedEntry] {
        let select = try BulkStatement(db, sql: "SELECT field, key_version, sealed, masked FROM sealed_values WHERE entity = ? AND record_id = ?")
        try select.bind(1, entity.rawValue)
        try select.bind(2, recordID)
        var entries: [RecordIntegrity.SealedEntry] = []
        while try select.next() {
            entries.append(.init(field: select.text(0), keyVersion: select.int64(1), sealed: select.bytes(2),
                                 masked: select.isNull(3) ? nil : select.bytes(3)))
        }
        return entries
    }

    /// The record's sealed values, checked against the digest its (verified) row commits to.
    static func fetchVerified(_ entity: Entity, recordID: Int64, expected: [UInt8], db: Database) throws -> [RecordIntegrity.SealedEntry] {
        let entries = try fetch(entity, recordID: recordID, db: db)
        try check(entries, entity: entity, recordID: recordID, expected: expected)
        return entries
    }

    static func check(_ entries: [RecordIntegrity.SealedEntry], entity: Entity, recordID: Int64, expected: [UInt8]) throws {
        guard try RecordIntegrity.sealedDigest(entries, entity: entity, recordID: recordID) == expected else {
            throw VaultError.integrity("\(entity.rawValue) \(recordID): its sealed values are not the ones its record commits to "
                + "(a value was changed, added, removed or put back from an older copy of the file)")
        }
    }
}
