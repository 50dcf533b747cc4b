import Foundation
import GRDB

/// Behaviour counters of one customer.
public struct BehaviourCounters: Sendable, Equatable, Codable {
    public var browse: Int
    public var purchase: Int
    public var review: Int

    public init(browse: Int = 0, purchase: Int = 0, review: Int = 0) {
        self.browse = browse
        self.purchase = purchase
        self.review = review
    }
}

extension CustomerVault {
    // MARK: - Transactions and interactions

    /// Adds a transaction (entity `.transactions`) or interaction (entity `.interactions`) to a customer.
    ///
    /// - Throws: ``VaultError`` `.notFound` for an unknown customer, `.invalidInput` naming the field.
    public func addHistory(_ entity: Entity, customerID: Int64, values: [String: String]) async throws -> Int64 {
        guard entity != .customers else { throw VaultError.invalidInput("use addCustomer for customers") }
        let canonical = try validate(values, entity: entity)
        let action: VaultAction = entity == .transactions ? .transactionWrite : .interactionWrite
        return try await perform(AccessRequest(action, writes: personalFieldNames(canonical.keys, entity: entity))) { [validator] db, note in
            guard try Self.visibleAttributes(customerID, note: note, db: db) != nil else { throw VaultError.notFound("no customer \(customerID)") }
            let id = try Self.insertHistory(entity, customerID: customerID, values: canonical, codec: note.codec, today: validator.today, db: db)
            note.target = "customers:\(customerID),\(entity.rawValue):\(id)"
            return id
        }
    }

    static func insertHistory(_ entity: Entity, customerID: Int64, values: [String: String], codec: RecordCodec, today: String,
                              now: String = Timestamps.now(), db: Database) throws -> Int64 {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM customers WHERE id = ? AND erased_at IS NULL"), arguments: [customerID]) == true else {
            throw VaultError.notFound("no customer \(customerID)")
        }
        let record = try codec.prepare(values, entity: entity, recordID: try RecordCodec.nextRecordID(entity, db: db), today: today)
        try codec.store(record, entity: entity, customerID: customerID, now: now, db: db)
        return record.id
    }

    /// The transactions or interactions of a customer, oldest first.
    public func history(_ entity: Entity, customerID: Int64) async throws -> [HistoryRecord] {
        guard entity != .customers else { throw VaultError.invalidInput("history is kept for transactions and interactions") }
        let action: VaultAction = entity == .transactions ? .transactionRead : .interactionRead
        return try await perform(AccessRequest(action)) { db, note in
            note.target = "customers:\(customerID)"
            guard try Self.visibleAttributes(customerID, note: note, db: db) != nil else { throw VaultError.notFound("no customer \(customerID)") }
            return try Self.loadHistory(entity, customerID: customerID, note: note, db: db)
        }
    }

    /// A customer's transactions or interactions, opened in the decision's views.
    static func loadHistory(_ entity: Entity, customerID: Int64, note: AuditNote, db: Database) throws -> [HistoryRecord] {
        let rows = try Row.fetchAll(db, sql: "SELECT id, attributes FROM \(entity.rawValue) WHERE customer_id = ? ORDER BY id",
                                    arguments: [customerID])
        return try rows.map { row in
            let id: Int64 = row["id"]
            var fields = try RecordCodec.decodeAttributes(row["attributes"], entity: entity, id: id)
            fields.merge(try note.codec.readSealed(entity: entity, recordID: id, db: db).values) { _, sealed in sealed }
            return HistoryRecord(id: id, customerID: customerID, fields: fields)
        }
    }

    // MARK: - Behaviour

    /// Adds to a customer's behaviour counters (counts may not go below zero).
    public func recordBehaviour(customerID: Int64, adding delta: BehaviourCounters) async throws -> BehaviourCounters {
        try await perform(AccessRequest(.behaviourWrite)) { db, note in
            note.target = "customers:\(customerID)"
            guard try Self.visibleAttributes(customerID, note: note, db: db) != nil else { throw VaultError.notFound("no customer \(customerID)") }
            try db.execute(sql: """
                INSERT INTO behaviour (customer_id, browse_count, purchase_count, review_count, updated_at) VALUES (?, 0, 0, 0, ?)
                ON CONFLICT (customer_id) DO NOTHING
                """, arguments: [customerID, Timestamps.now()])
            let current = try Self.loadBehaviour(customerID, db: db)
            let next = BehaviourCounters(browse: current.browse + delta.browse, purchase: current.purchase + delta.purchase,
                                         review: current.review + delta.review)
            guard next.browse >= 0, next.purchase >= 0, next.review >= 0 else {
                throw VaultError.invalidInput("behaviour counters cannot go below zero")
            }
            try db.execute(sql: """
                UPDATE behaviour SET browse_count = ?, purchase_count = ?, review_count = ?, updated_at = ? WHERE customer_id = ?
                """, arguments: [next.browse, next.purchase, next.review, Timestamps.now(), customerID])
            return next
        }
    }

    /// A customer's behaviour counters (zero when none were recorded).
    public func behaviour(customerID: Int64) async throws -> BehaviourCounters {
        try await perform(AccessRequest(.behaviourRead)) { db, note in
            note.target = "customers:\(customerID)"
            guard try Self.visibleAttributes(customerID, note: note, db: db) != nil else { throw VaultError.notFound("no customer \(customerID)") }
            return try Self.loadBehaviour(customerID, db: db)
        }
    }

    static func loadBehaviour(_ customerID: Int64, db: Database) throws -> BehaviourCounters {
        guard let row = try Row.fetchOne(db, sql: "SELECT browse_count, purchase_count, review_count FROM behaviour WHERE customer_id = ?",
                                         arguments: [customerID]) else { return BehaviourCounters() }
        return BehaviourCounters(browse: row["browse_count"], purchase: row["purchase_count"], review: row["review_count"])
    }
}
