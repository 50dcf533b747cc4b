import Dispatch
import Foundation
import VaultCore
import VaultStore

/// One sealed personal value ready to store.
struct SealedField: Sendable {
    var field: String
    var keyVersion: UInt32
    var sealed: [UInt8]
    var masked: [UInt8]?

    /// As the record's sealed digest covers it.
    var entry: SealedEntry { .init(field: field, keyVersion: Int64(keyVersion), sealed: sealed, masked: masked) }
}

/// A record whose values are validated, sealed and indexed, waiting only to be inserted.
///
/// Preparing is pure computation (no database), so a batch is prepared on all cores while the
/// writer holds the transaction; the record id, bound into every ciphertext, is reserved first.
struct PreparedRecord: Sendable {
    var id: Int64
    /// When the record was made: now, or what an export says (``RestoredFields``).
    var createdAt: String
    var attributes: String
    var sealed: [SealedField]
    /// What the record's row commits to about `sealed` (``RecordIntegrity/sealedDigest(_:entity:recordID:)``).
    var sealedDigest: [UInt8]
    /// A customer's row, tagged (history rows are tagged when stored, once their owner is known).
    var customerRow: CustomerRow?
    var digests: [(field: FieldSchema, version: UInt32, digest: [UInt8])]
    /// Digests to check uniqueness against (see ``RecordCodec/uniquenessProbes(_:current:plan:)``).
    var probes: [(field: FieldSchema, version: UInt32, digest: [UInt8])]
    /// A new customer's consent flags, each the first event of its history (``ConsentEvents``).
    var consents: [(name: String, granted: Bool)]
}

extension RecordCodec {
    /// Validated values → a record ready to insert under `recordID`, created at `now` (or at the
    /// restored times of an exported record): sealed, indexed and tagged. Pure computation, safe
    /// on all cores.
    /// `plan` is this codec's ``sealPlan(_:)`` for `entity`, when the caller prepares many records.
    func prepare(_ values: [String: String], entity: Entity, recordID: Int64, today: String, now: String,
                 restoring times: RestoredFields = RestoredFields(), plan: SealPlan? = nil) throws -> PreparedRecord {
        let plan = plan ?? sealPlan(entity)
        let createdAt = times.createdAt ?? now
        let integrity = try integrity
        let digests = entity == .customers ? try indexDigests(values, plan: plan.indexes) : []
        let plain = plainAttributeValues(values, entity: entity, today: today)
        let attributes = FlatJSON.encode(plain)
        let sealed = try seal(values, plan: plan, recordID: recordID)
        let sealedDigest = try RecordIntegrity.sealedDigest(sealed, entity: entity, recordID: recordID)
        var row: CustomerRow?
        if entity == .customers {
            var customer = CustomerRow(id: recordID, createdAt: createdAt, updatedAt: times.updatedAt ?? createdAt, attributes: attributes, erasedAt: nil,
                                       sealedDigest: sealedDigest, indexDigests: IndexDigests(digests), tag: nil)
            try customer.retag(integrity)
            row = customer
        }
        return PreparedRecord(
            id: recordID, createdAt: createdAt, attributes: attributes, sealed: sealed, sealedDigest: sealedDigest, customerRow: row,
            digests: digests, probes: try uniquenessProbes(values, current: digests, plan: plan.indexes),
            consents: entity == .customers ? ConsentEvents.initial(plain) : [])
    }

    /// Inserts a prepared record (its row with its sealed values, and its index entries) under its reserved id.
    /// `consentIDs` numbers the consent events of a batch (one query for the batch, not one per event).
    func store(_ record: PreparedRecord, entity: Entity, customerID: Int64?, now: String, consentIDs: ConsentEvents.Numbering? = nil,
               in tx: some StoreWriting) throws {
        var indexes = BatchIndexEntries()
        try store(record, entity: entity, customerID: customerID, now: now, consentIDs: consentIDs, indexes: &indexes, in: tx)
        try indexes.finish(in: tx)
    }

    /// Inserts a prepared record as one of a batch: its unique index entries at once, the others
    /// held in `indexes` until the batch ends (``BatchIndexEntries``).
    func store(_ record: PreparedRecord, entity: Entity, customerID: Int64?, now: String, consentIDs: ConsentEvents.Numbering? = nil,
               indexes: inout BatchIndexEntries, in tx: some StoreWriting) throws {
        let sealed = record.sealed.map(\.entry)
        if let row = record.customerRow {
            try tx.insert(row, sealed: sealed)
            try ConsentEvents.recordInitial(record.consents, customerID: record.id, at: now, integrity: try integrity,
                                            numbering: consentIDs ?? ConsentEvents.Numbering(), in: tx)
        } else {
            guard let customerID else { throw VaultError.io("\(entity.rawValue) \(record.id) has no customer") }
            var row = HistoryRow(entity: entity, id: record.id, customerID: customerID, createdAt: record.createdAt, attributes: record.attributes,
                                 sealedDigest: record.sealedDigest, tag: nil)
            try row.retag(try integrity)
            try tx.insert(row, sealed: sealed)
        }
        try indexes.add(record.digests, customerID: record.id, in: tx)
    }

    /// Runs `body` for 0..<count on all cores and returns each outcome in order.
    static func concurrently<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let results = Mutex<[Result<T, any Error>?]>(Array(repeating: nil, count: count))
        inRuns(count) { range in
            let outcomes = range.map { index in Result { try body(index) } }
            results.withLock { for (index, outcome) in zip(range, outcomes) { $0[index] = outcome } }
        }
        return results.withLock { $0.map { $0 ?? .failure(VaultError.io("a prepared record went missing")) } }
    }
}
