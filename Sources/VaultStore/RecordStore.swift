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

/// Reading records: customers, their history rows and their sealed values.
package protocol RecordReading {
    /// Customer `id`'s row as stored, unchecked; nil when there is none.
    func customerRow(id: Int64) throws -> CustomerRow?
    /// Every customer row, in id order (a cursor: memory stays flat).
    func forEachCustomerRow(_ body: (CustomerRow) throws -> Void) throws
    /// Row `id` of `entity` (transactions or interactions), unchecked; nil when there is none.
    func historyRow(_ entity: Entity, id: Int64) throws -> HistoryRow?
    /// Every row of `entity` owned by `customerID`, in id order.
    func historyRows(_ entity: Entity, customerID: Int64) throws -> [HistoryRow]
    /// Every row of `entity`, in id order (a cursor).
    func forEachHistoryRow(_ entity: Entity, _ body: (HistoryRow) throws -> Void) throws
    /// The sealed values of one record, in no particular order.
    func sealedEntries(_ entity: Entity, recordID: Int64) throws -> [SealedEntry]
}

/// Writing record rows. (Sealed values and index entries are written with the record by the
/// services' codec and move behind the seam with the record layout, issue #19.)
package protocol RecordWriting {
    /// Stores a new customer row; refuses an id already held.
    func insert(_ row: CustomerRow) throws
    /// Stores a new history row; refuses an id already held.
    func insert(_ row: HistoryRow) throws
    /// Writes every column of the row but its id; with `expectedTag`, only if the stored tag is
    /// still that one. Returns whether a row was written.
    @discardableResult func update(_ row: CustomerRow, expectedTag: [UInt8]?) throws -> Bool
    @discardableResult func update(_ row: HistoryRow, expectedTag: [UInt8]?) throws -> Bool
}

extension RecordWriting {
    /// Writes every column of the row but its id.
    package func update(_ row: CustomerRow) throws { try update(row, expectedTag: nil) }
    package func update(_ row: HistoryRow) throws { try update(row, expectedTag: nil) }
}
