import Foundation
import VaultCore
import VaultStore

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

    /// Largest count kept per counter (and largest change at a time): far beyond any real count,
    /// far below where sums of a million customers' counts could overflow.
    public static let maximum = 1_000_000_000

    /// The sum of two sets of counters; one over ``maximum`` is refused.
    func adding(_ other: BehaviourCounters) throws -> BehaviourCounters {
        let sum = BehaviourCounters(browse: browse + other.browse, purchase: purchase + other.purchase, review: review + other.review)
        guard [sum.browse, sum.purchase, sum.review].allSatisfy({ $0 <= Self.maximum }) else {
            throw VaultError.invalidInput("a behaviour count would exceed \(Self.maximum)")
        }
        return sum
    }
}

extension CustomerVault {
    // MARK: - Transactions and interactions

    /// Adds a transaction (entity `.transactions`) or interaction (entity `.interactions`) to a customer.
    ///
    /// - Throws: ``VaultError`` `.notFound` for an unknown customer, `.invalidInput` naming the field.
    func addHistory(_ entity: Entity, customerID: Int64, values: [String: String]) async throws -> Int64 {
        guard entity != .customers else { throw VaultError.invalidInput("use addCustomer for customers") }
        let canonical = try validate(values, entity: entity)
        let action: VaultAction = entity == .transactions ? .transactionWrite : .interactionWrite
        return try await perform(AccessRequest(action, writes: writtenFieldNames(canonical.keys, entity: entity))) { [validator] tx, note in
            guard try Self.visibleAttributes(customerID, note: note, in: tx) != nil else { throw VaultError.notFound("no customer \(customerID)") }
            let id = try Self.insertHistory(entity, customerID: customerID, values: canonical, codec: note.codec, today: validator.today, in: tx)
            note.target = "customers:\(customerID),\(entity.rawValue):\(id)"
            return id
        }
    }

    /// Inserts a history row for a customer the caller has found visible.
    static func insertHistory(_ entity: Entity, customerID: Int64, values: [String: String], codec: RecordCodec, today: String,
                              now: String = Timestamps.now(), in tx: some StoreWriting) throws -> Int64 {
        try NaturalKeys.refuseHeld(entity, values: values, schema: codec.schema, integrity: try codec.integrity, in: tx)
        let record = try codec.prepare(values, entity: entity, recordID: try tx.nextRecordID(entity), today: today, now: now)
        try codec.store(record, entity: entity, customerID: customerID, now: now, in: tx)
        try NaturalKeys.insert(entity, recordID: record.id, values: values, schema: codec.schema, in: tx)
        return record.id
    }

    /// Replaces the fields `values` gives of a stored transaction or interaction, in the caller's
    /// transaction (import in upsert mode): plain ones in its row, personal ones sealed again under
    /// its id; the others stay as they are. Decrypts nothing. The caller has checked that its
    /// customer is visible and that `values` keep its natural key.
    static func applyHistoryUpdate(_ entity: Entity, id: Int64, values: [String: String], note: AuditNote, today: String, in tx: some StoreWriting) throws {
        let integrity = try note.codec.integrity
        guard var row = try HistoryRow.fetchVerified(entity, id: id, integrity: integrity, in: tx) else {
            throw VaultError.notFound("no \(entity.rawValue) \(id)")
        }
        // The values kept must be the ones the record commits to: re-tagging tampered ones would launder them.
        var entries = try SealedEntries.fetchVerified(entity, recordID: id, expected: row.sealedDigest, in: tx)
        let current = try row.decodedAttributes()
        var attributes = current
        attributes.merge(note.codec.plainAttributeValues(values, entity: entity, today: today)) { _, new in new }
        try NaturalKeys.replace(entity, recordID: id, from: current, to: values, schema: note.codec.schema, integrity: integrity, in: tx)
        let sealed = try note.codec.seal(values, entity: entity, recordID: id)
        let replaced = Set(sealed.map(\.field))
        entries.removeAll { replaced.contains($0.field) }
        entries += sealed.map(\.entry)
        row.attributes = FlatJSON.encode(attributes)
        row.sealedDigest = try RecordIntegrity.sealedDigest(entries, entity: entity, recordID: id)
        try row.retag(integrity)
        try tx.update(row)
        try note.codec.writeSealed(sealed, entity: entity, recordID: id, in: tx)
    }

    /// The transactions or interactions of a customer, oldest first.
    func history(_ entity: Entity, customerID: Int64) async throws -> [HistoryRecord] {
        guard entity != .customers else { throw VaultError.invalidInput("history is kept for transactions and interactions") }
        let action: VaultAction = entity == .transactions ? .transactionRead : .interactionRead
        return try await perform(AccessRequest(action)) { tx, note in
            note.target = "customers:\(customerID)"
            guard try Self.visibleAttributes(customerID, note: note, in: tx) != nil else { throw VaultError.notFound("no customer \(customerID)") }
            return try Self.loadHistory(entity, customerID: customerID, note: note, in: tx)
        }
    }

    /// A customer's transactions or interactions, opened in the decision's views, each row and its
    /// sealed values checked against the row's tag.
    static func loadHistory(_ entity: Entity, customerID: Int64, note: AuditNote, in tx: some StoreReading) throws -> [HistoryRecord] {
        try HistoryRow.fetchVerified(entity, customerID: customerID, integrity: try note.codec.integrity, in: tx).map { row in
            var fields = try row.decodedAttributes()
            fields.merge(try note.codec.readSealed(entity: entity, recordID: row.id, expectedDigest: row.sealedDigest, in: tx).values) { _, sealed in sealed }
            return HistoryRecord(id: row.id, customerID: customerID, fields: fields, createdAt: row.createdAt)
        }
    }

    /// One transaction or interaction by id, opened in the decision's views and checked against
    /// its tag; nil when there is none. The caller checks that its customer is visible.
    static func loadHistoryRecord(_ entity: Entity, id: Int64, note: AuditNote, in tx: some StoreReading) throws -> HistoryRecord? {
        guard let row = try HistoryRow.fetchVerified(entity, id: id, integrity: try note.codec.integrity, in: tx) else { return nil }
        var fields = try row.decodedAttributes()
        fields.merge(try note.codec.readSealed(entity: entity, recordID: row.id, expectedDigest: row.sealedDigest, in: tx).values) { _, sealed in sealed }
        return HistoryRecord(id: row.id, customerID: row.customerID, fields: fields, createdAt: row.createdAt)
    }

    // MARK: - Behaviour

    /// Adds to a customer's behaviour counters (counts may not go below zero, nor above
    /// ``BehaviourCounters/maximum``).
    func recordBehaviour(customerID: Int64, adding delta: BehaviourCounters) async throws -> BehaviourCounters {
        for value in [delta.browse, delta.purchase, delta.review] where value.magnitude > UInt(BehaviourCounters.maximum) {
            throw VaultError.invalidInput("a behaviour count changes by at most \(BehaviourCounters.maximum) at a time")
        }
        return try await perform(AccessRequest(.behaviourWrite)) { tx, note in
            note.target = "customers:\(customerID)"
            guard try Self.visibleAttributes(customerID, note: note, in: tx) != nil else { throw VaultError.notFound("no customer \(customerID)") }
            let current = try Self.loadBehaviour(customerID, integrity: try note.codec.integrity, in: tx)
            let next = try current.adding(delta)
            guard next.browse >= 0, next.purchase >= 0, next.review >= 0 else {
                throw VaultError.invalidInput("behaviour counters cannot go below zero")
            }
            try Self.storeBehaviour(customerID, next, integrity: try note.codec.integrity, in: tx)
            return next
        }
    }

    /// A customer's behaviour counters (zero when none were recorded).
    func behaviour(customerID: Int64) async throws -> BehaviourCounters {
        try await perform(AccessRequest(.behaviourRead)) { tx, note in
            note.target = "customers:\(customerID)"
            guard try Self.visibleAttributes(customerID, note: note, in: tx) != nil else { throw VaultError.notFound("no customer \(customerID)") }
            return try Self.loadBehaviour(customerID, integrity: try note.codec.integrity, in: tx)
        }
    }

    /// A customer's counters, checked against their tag (zero when none were recorded).
    static func loadBehaviour(_ customerID: Int64, integrity: RecordIntegrity, in tx: some StoreReading) throws -> BehaviourCounters {
        try loadBehaviourRow(customerID, integrity: integrity, in: tx)?.counters ?? BehaviourCounters()
    }

    /// A customer's stored counters and when they last changed, checked against their tag; nil when none were recorded.
    static func loadBehaviourRow(_ customerID: Int64, integrity: RecordIntegrity, in tx: some StoreReading) throws
        -> (counters: BehaviourCounters, updatedAt: String)? {
        guard let stored = try tx.behaviour(customerID: customerID) else { return nil }
        let range = 0...Int64(BehaviourCounters.maximum)
        guard [stored.browse, stored.purchase, stored.review].allSatisfy(range.contains) else {
            throw VaultError.integrity("behaviour of customer \(customerID): a count is out of range (altered in the file)")
        }
        let counters = BehaviourCounters(browse: Int(stored.browse), purchase: Int(stored.purchase), review: Int(stored.review))
        try RecordIntegrity.check(stored.tag, try integrity.behaviour(customerID: customerID, counters, updatedAt: stored.updatedAt),
                                  "behaviour of customer \(customerID)")
        return (counters, stored.updatedAt)
    }

    /// Writes a customer's counters with their tag.
    static func storeBehaviour(_ customerID: Int64, _ counters: BehaviourCounters, integrity: RecordIntegrity, at now: String = Timestamps.now(),
                               in tx: some StoreWriting) throws {
        try tx.writeBehaviour(StoredBehaviour(customerID: customerID, browse: Int64(counters.browse), purchase: Int64(counters.purchase),
                                              review: Int64(counters.review), updatedAt: now,
                                              tag: try integrity.behaviour(customerID: customerID, counters, updatedAt: now)))
    }
}
