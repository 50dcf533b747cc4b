import VaultCrypto
import VaultCore
import VaultStore

/// Tags that authenticate the rows the vault trusts (SECURITY.md §4c).
///
/// A tag is BLAKE2b-128 keyed with the vault's record key (`vault/record/v1`) over one row's
/// content, its table and the vault id, each part length-prefixed (``ByteWriter``). A row whose
/// tag does not verify is an integrity error naming the table and row, before anything in it is
/// used. Records (customers, transactions, interactions) also commit to the exact bytes of their
/// sealed values (``sealedDigest(_:entity:recordID:)``) and customers to their blind-index
/// digests, so a sealed value rolled back or moved alone, a history row re-parented to another
/// customer, or an index entry moved to another customer, fails (index entries carry no tag: the
/// customer they name must commit to them, ``IndexDigests``).
///
/// The record key is held by every principal whose role reads or writes records: a file writer
/// without such a credential cannot make a valid tag. A principal that holds it can (it could also
/// write through the library); what it cannot do is open or make sealed values it has no key for.
struct RecordIntegrity: Sendable {
    static let tagLength = 16
    static let scope = KeyScope(field: KeyScope.vaultWide, purpose: .record, version: 1)

    let key: SecretBytes
    let vaultID: [UInt8]

    private func tag(_ table: String, _ build: (inout ByteWriter) -> Void) throws -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.row.v1", capacity: 512)
        writer.append(vaultID)
        writer.append(table)
        build(&writer)
        return try BLAKE2b.hash(writer.bytes, key: key, outputLength: Self.tagLength)
    }

    // MARK: - Rows

    func customer(_ row: CustomerRow) throws -> [UInt8] {
        try tag("customers") { w in
            w.append(row.id)
            w.append(row.createdAt)
            w.append(row.updatedAt)
            w.append(row.attributes)
            w.append(row.erasedAt ?? "")
            w.append(row.erasedAt == nil ? 0 : 1 as UInt8)
            w.append(row.sealedDigest)
            w.append(row.indexDigests.encoded)
        }
    }

    func history(_ row: HistoryRow) throws -> [UInt8] {
        try tag(row.entity.rawValue) { w in
            w.append(row.id)
            w.append(row.customerID)
            w.append(row.createdAt)
            w.append(row.attributes)
            w.append(row.sealedDigest)
        }
    }

    func behaviour(customerID: Int64, _ counters: BehaviourCounters, updatedAt: String) throws -> [UInt8] {
        try tag("behaviour") { w in
            w.append(customerID)
            w.append(Int64(counters.browse))
            w.append(Int64(counters.purchase))
            w.append(Int64(counters.review))
            w.append(updatedAt)
        }
    }

    func consent(id: Int64, customerID: Int64, consent: String, granted: Bool, at: String) throws -> [UInt8] {
        try tag("consent_events") { w in
            w.append(id)
            w.append(customerID)
            w.append(consent)
            w.append(granted ? 1 : 0 as UInt8)
            w.append(at)
        }
    }

    /// `alreadyStored` (migration v9) is covered only when it is not zero, so the tags of imports
    /// made before it still verify; a tag with it covers a longer message than one without.
    func importState(digest: [UInt8], kind: String, recordsDone: Int, accepted: Int, rejected: Int, startedAt: String, updatedAt: String,
                     finishedAt: String?, alreadyStored: Int = 0, updated: Int = 0) throws -> [UInt8] {
        try tag("imports") { w in
            w.append(digest)
            w.append(kind)
            w.append(Int64(recordsDone))
            w.append(Int64(accepted))
            w.append(Int64(rejected))
            w.append(startedAt)
            w.append(updatedAt)
            w.append(finishedAt ?? "")
            w.append(finishedAt == nil ? 0 : 1 as UInt8)
            if alreadyStored != 0 { w.append(Int64(alreadyStored)) }
            // Marked, so that the tag of (already stored n, updated 0) differs from that of (0, n).
            if updated != 0 {
                w.append("updated")
                w.append(Int64(updated))
            }
        }
    }

    func importReject(digest: [UInt8], _ reject: ImportReject) throws -> [UInt8] {
        try tag("import_rejects") { w in
            w.append(digest)
            w.append(Int64(reject.record))
            w.append(Int64(reject.line))
            w.append(reject.storedField)
            w.append(reject.storedReason)
        }
    }

    func rotation(id: Int64, fields: String, startedBy: String, startedAt: String, finishedAt: String?) throws -> [UInt8] {
        try tag("key_rotations") { w in
            w.append(id)
            w.append(fields)
            w.append(startedBy)
            w.append(startedAt)
            w.append(finishedAt ?? "")
            w.append(finishedAt == nil ? 0 : 1 as UInt8)
        }
    }

    /// A row of `data_keys`: which keys exist, and which are retired (a key retired in the file would
    /// hide values; one brought back would reopen what retirement closed).
    func dataKey(id: Int64, scope: KeyScope, publicKey: [UInt8]?, retiredAt: String?) throws -> [UInt8] {
        try tag("data_keys") { w in
            w.append(id)
            w.append(scope.field)
            w.append(scope.purpose.rawValue)
            w.append(scope.version)
            w.append(publicKey ?? [])
            w.append(retiredAt ?? "")
            w.append(retiredAt == nil ? 0 : 1 as UInt8)
        }
    }

    /// Throws an integrity error naming `place` unless `stored` is the tag `expected`.
    static func check(_ stored: [UInt8]?, _ expected: [UInt8], _ place: @autoclosure () -> String) throws {
        guard let stored else {
            throw VaultError.integrity("\(place()): the row has no integrity tag (inserted or altered in the file)")
        }
        guard constantTimeEquals(stored, expected) else {
            throw VaultError.integrity("\(place()): the row's integrity tag does not match its content (altered in the file)")
        }
    }

    // MARK: - What records commit to

    /// One stored sealed value, as the record's digest covers it.

    /// BLAKE2b-256 over the record's sealed values sorted by field: each field's key version and the
    /// exact bytes of its full and masked envelopes. Stored in the record's row and covered by its
    /// tag; recomputed from the values read, so one value put back from an older copy (a rollback),
    /// dropped, added or changed makes the record fail as a whole.
    static func sealedDigest(_ entries: [SealedEntry], entity: Entity, recordID: Int64) throws -> [UInt8] {
        try sealedDigest(entries.map { ($0.field, $0.keyVersion, $0.sealed, $0.masked) }, entity: entity, recordID: recordID)
    }

    /// The same over a prepared record's values (no copies of the envelopes).
    static func sealedDigest(_ fields: [SealedField], entity: Entity, recordID: Int64) throws -> [UInt8] {
        try sealedDigest(fields.map { ($0.field, Int64($0.keyVersion), $0.sealed, $0.masked) }, entity: entity, recordID: recordID)
    }

    private static func sealedDigest(_ values: [(field: String, keyVersion: Int64, sealed: [UInt8], masked: [UInt8]?)], entity: Entity,
                                     recordID: Int64) throws -> [UInt8] {
        let size = values.reduce(64) { $0 + $1.field.utf8.count + $1.sealed.count + ($1.masked?.count ?? 0) + 24 }
        var writer = ByteWriter(domain: "cvault.sealed-set.v1", capacity: size)
        writer.append(entity.rawValue)
        writer.append(recordID)
        for value in values.sorted(by: { $0.field < $1.field }) {
            writer.append(value.field)
            writer.append(value.keyVersion)
            writer.append(value.sealed)
            if let masked = value.masked {
                writer.append(1 as UInt8)
                writer.append(masked)
            } else {
                writer.append(0 as UInt8)
            }
        }
        return try BLAKE2b.hash(writer.bytes)
    }
}
