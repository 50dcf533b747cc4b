import VaultCore
import VaultStore

// The services' checks of stored record rows: each row against its tag, each record's sealed
// values against the digest its row commits to. The rows themselves are the store's
// (``CustomerRow``, ``HistoryRow``, ``SealedEntry`` in VaultStore).

extension CustomerRow {
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
}

extension HistoryRow {
    /// Every row of `entity` owned by `customerID`, oldest first, each checked against its tag.
    static func fetchVerified(_ entity: Entity, customerID: Int64, integrity: RecordIntegrity, in tx: some RecordReading) throws -> [HistoryRow] {
        let rows = try tx.historyRows(entity, customerID: customerID)
        for row in rows { try row.verify(integrity) }
        return rows
    }

    /// The row `id` of `entity` checked against its tag; nil when there is none.
    static func fetchVerified(_ entity: Entity, id: Int64, integrity: RecordIntegrity, in tx: some RecordReading) throws -> HistoryRow? {
        guard let row = try tx.historyRow(entity, id: id) else { return nil }
        try row.verify(integrity)
        return row
    }

    /// Every row of `entity`, each checked against its tag, in id order (a cursor: memory stays flat).
    static func forEachVerified(_ entity: Entity, integrity: RecordIntegrity, in tx: some RecordReading, _ body: (HistoryRow) throws -> Void) throws {
        try tx.forEachHistoryRow(entity) { row in
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
}

/// The stored sealed values of one record, read without opening them.
enum SealedEntries {
    /// The record's sealed values, checked against the digest its (verified) row commits to.
    static func fetchVerified(_ entity: Entity, recordID: Int64, expected: [UInt8], in tx: some RecordReading) throws -> [SealedEntry] {
        let entries = try tx.sealedEntries(entity, recordID: recordID)
        try check(entries, entity: entity, recordID: recordID, expected: expected)
        return entries
    }

    static func check(_ entries: [SealedEntry], entity: Entity, recordID: Int64, expected: [UInt8]) throws {
        guard try RecordIntegrity.sealedDigest(entries, entity: entity, recordID: recordID) == expected else {
            throw VaultError.integrity("\(entity.rawValue) \(recordID): its sealed values are not the ones its record commits to "
                + "(a value was changed, added, removed or put back from an older copy of the file)")
        }
    }
}
