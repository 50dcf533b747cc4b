/// What a full integrity check (`verifyIntegrity`) asks of the store beyond reading every
/// aggregate: the checks only the store can make of itself.
package protocol StoreIntegrityReading {
    /// Checks the store's own structure against what it creates (for SQLite: the file's schema
    /// against its migrations); throws an integrity error naming the first difference.
    func checkStructure() throws
    /// A sealed value stored for a record that does not exist, if any (`entity` as stored).
    func orphanSealedValue() throws -> (entity: String, recordID: Int64)?
}

/// What the one-time upgrade of a vault made before record integrity tags (issue #17) needs
/// beyond the aggregates' own operations. Rows of such a vault have no tags (`tag` is nil).
package protocol LegacyFormatReading {
    /// Whether anything in the store is already in the current format (a tag, a format-2 grant or
    /// certificate key, a signed erasure, a sealed digest): such a store is never "upgraded".
    func holdsCurrentFormatRows() throws -> Bool
}

package protocol LegacyFormatWriting {
    /// Drops every key grant of the first format (the upgrade issues them again).
    func deleteFirstFormatGrants() throws
    /// Deletes every write session of `field` (whatever its version).
    func deleteWriteSessions(field: String) throws
    /// Stores an erasure's attestation (audit entry, signer, signature and proof).
    func updateErasureAttestation(_ erasure: StoredErasure) throws
    /// Stores the tag of a consent event.
    func setConsentEventTag(id: Int64, tag: [UInt8]) throws
}

/// Changes that may be undone on their own while the rest of the transaction goes on.
package protocol SavepointWriting {
    /// Runs `body`; when it throws, what it changed is undone and the error rethrown, while the
    /// enclosing transaction stays open with everything before it.
    func savepoint(_ body: () throws -> Void) throws
}
