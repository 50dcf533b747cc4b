import Dispatch
import Foundation
import GRDB

/// One sealed personal value ready to store.
struct SealedField: Sendable {
    var field: String
    var keyVersion: UInt32
    var sealed: [UInt8]
    var masked: [UInt8]?
}

/// A record whose values are validated, sealed and indexed, waiting only to be inserted.
///
/// Preparing is pure computation (no database), so a batch is prepared on all cores while the
/// writer holds the transaction; the record id, bound into every ciphertext, is reserved first.
struct PreparedRecord: Sendable {
    var id: Int64
    var attributes: String
    var sealed: [SealedField]
    var digests: [(field: FieldSchema, version: UInt32, digest: [UInt8])]
    /// Digests to check uniqueness against (see ``RecordCodec/uniquenessProbes(_:current:)``).
    var probes: [(field: FieldSchema, version: UInt32, digest: [UInt8])]
    /// A new customer's consent flags, each the first event of its history (``ConsentEvents``).
    var consents: [(name: String, granted: Bool)]
}

extension RecordCodec {
    func prepare(_ values: [String: String], entity: Entity, recordID: Int64, today: String) throws -> PreparedRecord {
        let digests = entity == .customers ? try indexDigests(values) : []
        let plain = plainAttributeValues(values, entity: entity, today: today)
        return PreparedRecord(
            id: recordID, attributes: FlatJSON.encode(plain),
            sealed: try seal(values, entity: entity, recordID: recordID),
            digests: digests, probes: try uniquenessProbes(values, current: digests),
            consents: entity == .customers ? ConsentEvents.initial(plain) : [])
    }

    /// Inserts a prepared record (its row, sealed values and index entries) under its reserved id.
    func store(_ record: PreparedRecord, entity: Entity, customerID: Int64?, now: String, db: Database) throws {
        if entity == .customers {
            let insert = try BulkStatement(db, sql: "INSERT INTO customers (id, created_at, updated_at, attributes) VALUES (?, ?, ?, ?)")
            try insert.bind(1, record.id)
            try insert.bind(2, now)
            try insert.bind(3, now)
            try insert.bind(4, record.attributes)
            try insert.execute()
            try ConsentEvents.recordInitial(record.consents, customerID: record.id, at: now, db: db)
        } else {
            let insert = try BulkStatement(db, sql: "INSERT INTO \(entity.rawValue) (id, customer_id, created_at, attributes) VALUES (?, ?, ?, ?)")
            try insert.bind(1, record.id)
            if let customerID { try insert.bind(2, customerID) } else { try insert.bind(2, nil as [UInt8]?) }
            try insert.bind(3, now)
            try insert.bind(4, record.attributes)
            try insert.execute()
        }
        try writeSealed(record.sealed, entity: entity, recordID: record.id, db: db)
        try writeIndexes(record.digests, customerID: record.id, replacing: false, db: db)
    }

    /// The next id of an entity's table. Reserve only inside a write transaction: the write lock
    /// keeps other writers out until the ids are used. AUTOINCREMENT never hands out a used id again.
    static func nextRecordID(_ entity: Entity, db: Database) throws -> Int64 {
        try nextRecordID(table: entity.rawValue, db: db)
    }

    static func nextRecordID(table: String, db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: """
            SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0),
                       coalesce((SELECT max(id) FROM \(table)), 0)) + 1
            """, arguments: [table]) ?? 1
    }

    /// Runs `body` for 0..<count on all cores and returns each outcome in order.
    static func concurrently<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let results = Mutex<[Result<T, any Error>?]>(Array(repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let outcome = Result { try body(index) }
            results.withLock { $0[index] = outcome }
        }
        return results.withLock { $0.map { $0 ?? .failure(VaultError.io("a prepared record went missing")) } }
    }
}
