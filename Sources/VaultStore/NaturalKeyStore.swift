package import VaultCore

/// A natural-key entry: record `recordID` of `entity` holds `value` of the plain unique `field`
/// (a transaction's `order_id`). A pointer the services trust only once the record is checked.
package struct NaturalKeyEntry: Sendable, Hashable {
    package var entity: Entity
    package var field: String
    package var value: String
    package var recordID: Int64

    package init(entity: Entity, field: String, value: String, recordID: Int64) {
        self.entity = entity
        self.field = field
        self.value = value
        self.recordID = recordID
    }
}

/// Reading natural-key entries.
package protocol NaturalKeyReading {
    /// The record the entry for `value` of `field` names; nil when there is none.
    func naturalKeyHolder(_ entity: Entity, field: String, value: String) throws -> Int64?
    /// Every entry, in no particular order.
    func naturalKeyEntries() throws -> [NaturalKeyEntry]
}

/// Changing natural-key entries.
package protocol NaturalKeyWriting {
    /// Stores an entry; refuses a value of that field already held.
    func insertNaturalKey(_ entry: NaturalKeyEntry) throws
    /// Deletes record `recordID`'s entry for `field`.
    func deleteNaturalKey(_ entity: Entity, field: String, recordID: Int64) throws
}
