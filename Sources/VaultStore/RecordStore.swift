package import VaultCore

/// A customer's row as stored: its plain attributes, what it commits to (the digest of its sealed
/// values and its blind-index digests), and the record key's tag over all of it. Checked above
/// the store (`CustomerRow.verify` in the services).
package struct CustomerRow: Sendable, Equatable {
    package var id: Int64
    package var createdAt: String
    package var updatedAt: String
    /// The plain attributes as stored (sorted flat JSON).
    package var attributes: String
    package var erasedAt: String?
    package var sealedDigest: [UInt8]
    package var indexDigests: IndexDigests
    package var tag: [UInt8]?

    package var place: String { "customers \(id)" }

    package init(id: Int64, createdAt: String, updatedAt: String, attributes: String, erasedAt: String?, sealedDigest: [UInt8],
                 indexDigests: IndexDigests, tag: [UInt8]?) {
        self.id = id
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.attributes = attributes
        self.erasedAt = erasedAt
        self.sealedDigest = sealedDigest
        self.indexDigests = indexDigests
        self.tag = tag
    }
}

/// A transaction's or interaction's row as stored, with its owner.
package struct HistoryRow: Sendable, Equatable {
    package var entity: Entity
    package var id: Int64
    package var customerID: Int64
    package var createdAt: String
    package var attributes: String
    package var sealedDigest: [UInt8]
    package var tag: [UInt8]?

    package var place: String { "\(entity.rawValue) \(id)" }

    package init(entity: Entity, id: Int64, customerID: Int64, createdAt: String, attributes: String, sealedDigest: [UInt8], tag: [UInt8]?) {
        self.entity = entity
        self.id = id
        self.customerID = customerID
        self.createdAt = createdAt
        self.attributes = attributes
        self.sealedDigest = sealedDigest
        self.tag = tag
    }
}

/// One sealed field of a record as stored: the full envelope and, for a masked field, the masked one.
package struct SealedEntry: Sendable, Equatable {
    package var field: String
    package var keyVersion: Int64
    package var sealed: [UInt8]
    package var masked: [UInt8]?

    package init(field: String, keyVersion: Int64, sealed: [UInt8], masked: [UInt8]?) {
        self.field = field
        self.keyVersion = keyVersion
        self.sealed = sealed
        self.masked = masked
    }
}

/// A customer's behaviour counters as stored, with the record key's tag over them.
package struct StoredBehaviour: Sendable, Equatable {
    package var customerID: Int64
    package var browse: Int64
    package var purchase: Int64
    package var review: Int64
    package var updatedAt: String
    package var tag: [UInt8]?

    package init(customerID: Int64, browse: Int64, purchase: Int64, review: Int64, updatedAt: String, tag: [UInt8]?) {
        self.customerID = customerID
        self.browse = browse
        self.purchase = purchase
        self.review = review
        self.updatedAt = updatedAt
        self.tag = tag
    }
}

/// Reading records: customers, their history rows and their sealed values.
package protocol RecordReading {
    /// Customer `id`'s row as stored, unchecked; nil when there is none.
    func customerRow(id: Int64) throws -> CustomerRow?
    /// Every customer row, in id order (a cursor: memory stays flat).
    func forEachCustomerRow(_ body: (CustomerRow) throws -> Void) throws
    /// Up to `limit` customer ids above `after`, in order (erased customers included).
    func customerIDs(after: Int64, limit: Int) throws -> [Int64]
    /// A customer's behaviour counters; nil when none were recorded.
    func behaviour(customerID: Int64) throws -> StoredBehaviour?
    /// Every customer's behaviour counters (a cursor).
    func forEachBehaviour(_ body: (StoredBehaviour) throws -> Void) throws
    /// Every entry of `field` in one index, ordered by key version then digest, so that entries
    /// sharing a digest (candidate duplicates) come together (a cursor).
    func forEachIndexEntry(field: String, unique: Bool, _ body: (_ version: UInt32, _ digest: [UInt8], _ customerID: Int64) throws -> Void) throws
    /// Every entry of one index, of every field, in no particular order (a cursor).
    func forEachIndexEntry(unique: Bool, _ body: (_ field: String, _ version: UInt32, _ digest: [UInt8], _ customerID: Int64) throws -> Void) throws
    /// Up to `limit` history rows of `entity` with ids above `after`, in id order: their ids and owners.
    func historyOwners(_ entity: Entity, after: Int64, limit: Int) throws -> [(id: Int64, customerID: Int64)]
    /// Up to `limit` customers with behaviour counters, with ids above `after`, in order.
    func behaviourOwners(after: Int64, limit: Int) throws -> [Int64]
    /// Row `id` of `entity` (transactions or interactions), unchecked; nil when there is none.
    func historyRow(_ entity: Entity, id: Int64) throws -> HistoryRow?
    /// Every row of `entity` owned by `customerID`, in id order.
    func historyRows(_ entity: Entity, customerID: Int64) throws -> [HistoryRow]
    /// Every row of `entity`, in id order (a cursor).
    func forEachHistoryRow(_ entity: Entity, _ body: (HistoryRow) throws -> Void) throws
    /// The sealed values of one record, in no particular order.
    func sealedEntries(_ entity: Entity, recordID: Int64) throws -> [SealedEntry]
    /// The id the next record of `entity` gets: above every id it ever held (ids are bound into
    /// ciphertexts and never reused). Reserve only inside a write transaction.
    func nextRecordID(_ entity: Entity) throws -> Int64
    /// The customers a blind-index entry names (unchecked: the services check each against the
    /// digests its row commits to). `unique` selects the unique index (at most one holder).
    func indexHolders(field: String, unique: Bool, version: UInt32, digest: [UInt8]) throws -> [Int64]
}

/// Writing records: rows, their sealed values and their blind-index entries.
package protocol RecordWriting {
    /// Stores a new customer row with its sealed values; refuses an id already held.
    func insert(_ row: CustomerRow, sealed: [SealedEntry]) throws
    /// Stores a new history row with its sealed values; refuses an id already held.
    func insert(_ row: HistoryRow, sealed: [SealedEntry]) throws
    /// Writes every column of the row but its id, and with `sealed` the record's whole set of
    /// sealed values; with `expectedTag`, only if the stored tag is still that one. Returns whether
    /// a row was written.
    @discardableResult func update(_ row: CustomerRow, expectedTag: [UInt8]?, sealed: [SealedEntry]?) throws -> Bool
    @discardableResult func update(_ row: HistoryRow, expectedTag: [UInt8]?, sealed: [SealedEntry]?) throws -> Bool
    /// Stores sealed values of a record, replacing earlier ones of the same fields.
    func writeSealedEntries(_ entries: [SealedEntry], entity: Entity, recordID: Int64) throws
    /// Stores a blind-index entry; in the unique index, refuses a digest already held.
    func insertIndexEntry(field: String, unique: Bool, version: UInt32, digest: [UInt8], customerID: Int64) throws
    /// Removes one blind-index entry (the one a customer's row committed to before a change).
    func removeIndexEntry(field: String, unique: Bool, version: UInt32, digest: [UInt8], customerID: Int64) throws
    /// Removes one sealed value of a record.
    func deleteSealedEntry(_ entity: Entity, recordID: Int64, field: String) throws
    /// Deletes a customer and everything it owns: history rows, sealed values, the index entries
    /// its row commits to (its index digests), behaviour counters, consent events and natural-key
    /// entries. Returns whether it existed.
    @discardableResult func deleteCustomer(id: Int64) throws -> Bool
    /// Stores a customer's behaviour counters, replacing earlier ones.
    func writeBehaviour(_ behaviour: StoredBehaviour) throws
    /// Deletes history rows of `entity` and their sealed values and natural-key entries.
    func deleteHistoryRows(_ entity: Entity, ids: [Int64]) throws
}

extension RecordWriting {
    /// Stores a new row without sealed values.
    package func insert(_ row: CustomerRow) throws { try insert(row, sealed: []) }
    package func insert(_ row: HistoryRow) throws { try insert(row, sealed: []) }
    /// Writes every column of the row but its id (its sealed values stay).
    package func update(_ row: CustomerRow) throws { try update(row, expectedTag: nil, sealed: nil) }
    package func update(_ row: HistoryRow) throws { try update(row, expectedTag: nil, sealed: nil) }
    @discardableResult package func update(_ row: CustomerRow, expectedTag: [UInt8]?) throws -> Bool { try update(row, expectedTag: expectedTag, sealed: nil) }
    @discardableResult package func update(_ row: HistoryRow, expectedTag: [UInt8]?) throws -> Bool { try update(row, expectedTag: expectedTag, sealed: nil) }
}
