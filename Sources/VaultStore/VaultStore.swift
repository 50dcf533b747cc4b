/// The storage seam: what the vault's services ask of a store, in transactions over the vault's
/// aggregates (customers and their sealed values, indexes, keys and grants, write sessions, the
/// access log, imports, erasures).
///
/// A store keeps what it is given and hands it back; it decides nothing and trusts nothing it
/// reads: every record carries its own tag, every access-log entry its hash and signature, and the
/// services check them. A store that loses, alters or reorders data is caught there, not here.
///
/// ```swift
/// let head = try await store.read { tx in try tx.auditHead() }
/// try await store.write { tx in try tx.appendAuditEntry(sealed) }
/// ```
///
/// The SQLite store (`VaultSQLite`) is the embedded default; the conformance suite
/// (`VaultStoreConformance`) runs the same behavioural checks against any implementation.
package protocol VaultStore: Sendable {
    /// Runs `body` in a read transaction: a consistent snapshot of every commit before it began.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T

    /// Runs `body` in a write transaction: all of it commits durably, or nothing does (also when
    /// `body` throws).
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriting) throws -> T) async throws -> T

    /// Writes a consistent copy of the whole store, as of one moment, into the new file at `path`
    /// (the payload of a backup), while writers go on.
    func snapshot(to path: String) async throws

    /// Makes every commit part of the store's main file (for SQLite: checkpoints and truncates the
    /// write-ahead log), so that the file alone holds the vault.
    func checkpoint() async throws

    /// Closes the store; it must not be used afterwards.
    func close() throws
}

/// What a read transaction offers: one protocol per aggregate.
package protocol StoreReading: AuditLogReading, KeyStoreReading, VaultMetaReading, WriteSessionReading, RecordReading, NaturalKeyReading, ConsentReading,
    ErasureReading, ImportReading, RotationReading, StoreIntegrityReading, LegacyFormatReading {}

/// What a write transaction offers: everything a read does, and changes.
package protocol StoreWriting: StoreReading, AuditLogWriting, KeyStoreWriting, VaultMetaWriting, WriteSessionWriting, RecordWriting, NaturalKeyWriting,
    ConsentWriting, ErasureWriting, ImportWriting, RotationWriting, LegacyFormatWriting, SavepointWriting {}
