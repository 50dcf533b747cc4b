package import VaultCore

/// One key rotation as stored, with the record key's tag over it.
package struct StoredRotation: Sendable, Equatable {
    package var id: Int64
    /// The qualified field names, joined by commas.
    package var fields: String
    package var startedBy: String
    package var startedAt: String
    package var finishedAt: String?
    package var tag: [UInt8]?

    package init(id: Int64, fields: String, startedBy: String, startedAt: String, finishedAt: String?, tag: [UInt8]?) {
        self.id = id
        self.fields = fields
        self.startedBy = startedBy
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.tag = tag
    }
}

/// A sealed value with the record it belongs to, as a rotation scans them.
package struct RecordSealedEntry: Sendable, Equatable {
    package var recordID: Int64
    package var entry: SealedEntry

    package init(recordID: Int64, entry: SealedEntry) {
        self.recordID = recordID
        self.entry = entry
    }
}

/// What key rotation reads: its bookkeeping, and values and index entries by key version.
package protocol RotationReading {
    /// Every rotation, in id order.
    func rotations() throws -> [StoredRotation]
    /// The id the next rotation gets (never reused).
    func nextRotationID() throws -> Int64
    /// How many values of `entity`'s `field` (a bare name) each key version seals.
    func sealedValueCounts(_ entity: Entity, field: String) throws -> [UInt32: Int]
    /// How many index entries of `field` each key version holds.
    func indexEntryCounts(field: String, unique: Bool) throws -> [UInt32: Int]
    /// Per field of `below` (bare names), how many values of `entity` are sealed under a version
    /// below the one given; fields with none left are absent (one scan per call).
    func sealedValueCountsBelow(_ entity: Entity, versions below: [String: UInt32]) throws -> [String: Int]
    /// The sealed values of records of `entity` with ids above `after`, whole records in id order,
    /// until at least `limit` values (or the end): only the last record may take it past `limit`.
    func sealedEntries(_ entity: Entity, after: Int64, limit: Int) throws -> [RecordSealedEntry]
}

/// What key rotation writes: its bookkeeping, re-sealed values and new index entries in batches.
package protocol RotationWriting {
    /// Stores a new rotation; refuses an id already held.
    func insertRotation(_ rotation: StoredRotation) throws
    /// Stores a rotation's end and tag.
    func updateRotation(_ rotation: StoredRotation) throws
    /// Adds an index entry unless the same one is stored. In the unique index, returns the
    /// customer that holds the digest when another one does (nothing is written then).
    func addIndexEntry(field: String, unique: Bool, version: UInt32, digest: [UInt8], customerID: Int64) throws -> Int64?
    /// Drops every index entry of each field below its version, in one batch (the store may
    /// rebuild its own lookup structures rather than delete entry by entry).
    func removeIndexEntries(below: [IndexVersionFloor]) throws
}

/// An index's entries of `field` below `version`, as a rotation's end drops them.
package struct IndexVersionFloor: Sendable, Equatable {
    package var field: String
    package var unique: Bool
    package var version: UInt32

    package init(field: String, unique: Bool, version: UInt32) {
        self.field = field
        self.unique = unique
        self.version = version
    }
}
