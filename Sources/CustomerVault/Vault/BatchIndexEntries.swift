import VaultCore
import VaultStore

/// The index entries of a batch of new records: unique ones are written at once (the uniqueness
/// probes of the batch's later rows must see them), the others are held and written at the end of
/// the batch, in the index's key order.
///
/// Entries are keyed by random digests, so written in record order each lands on a random page
/// and the pages a batch touches outgrow SQLite's page cache: evicted, written out and read again.
/// In key order each page is visited once per batch (RESULTS.md 22). Nothing reads a held entry
/// before the end of its batch: an import looks customers up by their unique e-mail only, and
/// never updates a customer it stored in the same file.
struct BatchIndexEntries {
    private var held: [IndexEntryKey] = []

    /// Writes the unique entries of `digests` and holds the others.
    mutating func add(_ digests: [(field: FieldSchema, version: UInt32, digest: [UInt8])], customerID: Int64, in tx: some StoreWriting) throws {
        for entry in digests {
            if entry.field.unique {
                try tx.insertIndexEntry(field: entry.field.name, unique: true, version: entry.version, digest: entry.digest, customerID: customerID)
            } else {
                held.append(IndexEntryKey(field: entry.field.name, unique: false, version: entry.version, digest: entry.digest, customerID: customerID))
            }
        }
    }

    /// Writes the held entries in key order; call it in the batch's transaction, before it commits.
    mutating func finish(in tx: some StoreWriting) throws {
        for entry in held.sorted() {
            try tx.insertIndexEntry(field: entry.field, unique: false, version: entry.version, digest: entry.digest, customerID: entry.customerID)
        }
        held.removeAll()
    }
}

/// One index entry, ordered as the index tables keep their keys (field, key version, digest,
/// customer; the blind index before the unique one): batches write in this order so that each
/// index page is visited once.
struct IndexEntryKey: Comparable {
    var field: String
    var unique: Bool
    var version: UInt32
    var digest: [UInt8]
    var customerID: Int64

    static func < (a: Self, b: Self) -> Bool {
        if a.unique != b.unique { return !a.unique }
        if a.field != b.field { return a.field < b.field }
        if a.version != b.version { return a.version < b.version }
        if a.digest != b.digest { return a.digest.lexicographicallyPrecedes(b.digest) }
        return a.customerID < b.customerID
    }
}
