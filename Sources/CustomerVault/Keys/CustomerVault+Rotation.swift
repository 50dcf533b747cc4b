import Foundation
import VaultSQLite
import VaultCrypto
import VaultCore
import VaultStore

/// The keys of one personal field: versions in use and what each still protects.
public struct FieldKeyStatus: Sendable, Equatable, Codable {
    /// `customers.email`, …
    public var field: String
    /// The version new writes use.
    public var currentVersion: UInt32
    /// Sealed values per key version (`"1": 120`).
    public var valuesByVersion: [String: Int]
    /// Blind-index entries per index key version (searchable fields only).
    public var indexEntriesByVersion: [String: Int]
    /// Older versions still live (not retired).
    public var liveOlderVersions: [UInt32]
}

/// `keys status`: every personal field, and the rotation in progress if any.
public struct KeysReport: Sendable, Equatable, Codable {
    public var fields: [FieldKeyStatus]
    /// Fields of an unfinished rotation (resume with `rotateKeys(resume: true)`).
    @NullEncoded public var rotationInProgress: [String]?
}

/// Progress of a rotation: values re-encrypted so far out of those that needed it at the start.
public struct RotationProgress: Sendable {
    public var done: Int
    public var total: Int
}

/// What a rotation did.
public struct RotationReport: Sendable, Equatable, Codable {
    public var fields: [String]
    /// The new current version of each field.
    public var versions: [String: UInt32]
    /// Values re-encrypted (and index entries rebuilt) in this run.
    public var reencrypted: Int
    public var resumed: Bool
}

/// A key version destroyed by `retireKeys`.
public struct RetiredKey: Sendable, Equatable, Codable {
    public var field: String
    public var purpose: String
    public var version: UInt32
}

extension CustomerVault {
    /// Values per rotation transaction: about five thousand customers' worth. Each commit writes
    /// every page its batch touched to the write-ahead log, and a batch replaces index entries on
    /// random pages, so smaller batches rewrite the indexes more often: 6,000 took 10.0 s for
    /// 100,000 customers, 30,000 took 6.4 s (peak memory 94 → 138 MiB: two batches are held, one
    /// being written while the next is sealed); 60,000 was no faster (Benchmarks/RESULTS.md 19).
    public static let defaultRotationBatchSize = 30_000

    /// Per personal field: the current key version and how many values and index entries each
    /// version still protects (action `keys.rotate`).
    func keyStatus() async throws -> KeysReport {
        try await perform(AccessRequest(.rotateKeys)) { [schema] tx, note in
            note.target = "keys"
            var fields: [FieldKeyStatus] = []
            let live = try tx.existingScopes()
            for entity in Entity.allCases {
                for field in schema.personalFields(of: entity) {
                    let name = KeyScope.fieldName(entity, field.name)
                    let sealVersions = live.filter { $0.field == name && $0.purpose == .seal }.map(\.version).sorted()
                    let values = Dictionary(uniqueKeysWithValues: try tx.sealedValueCounts(entity, field: field.name).map { (String($0.key), $0.value) })
                    let index = field.search == nil ? [:]
                        : Dictionary(uniqueKeysWithValues: try tx.indexEntryCounts(field: field.name, unique: field.unique).map { (String($0.key), $0.value) })
                    fields.append(FieldKeyStatus(field: name, currentVersion: sealVersions.last ?? 0, valuesByVersion: values,
                                                 indexEntriesByVersion: index, liveOlderVersions: Array(sealVersions.dropLast())))
                }
            }
            return KeysReport(fields: fields, rotationInProgress: try Self.unfinishedRotation(tx, integrity: try note.codec.integrity)?.fields)
        }
    }

    /// The unfinished rotation, if any. Every rotation row is checked against its tag: one whose
    /// end or fields were altered in the file would make a resumed rotation rotate the wrong fields, or
    /// none.
    static func unfinishedRotation(_ tx: some StoreReading, integrity: RecordIntegrity) throws -> (id: Int64, fields: [String])? {
        var unfinished: (id: Int64, fields: [String])?
        for rotation in try verifiedRotations(tx, integrity: integrity) where rotation.finishedAt == nil && unfinished == nil {
            unfinished = (rotation.id, rotation.fields.split(separator: ",").map(String.init))
        }
        return unfinished
    }

    /// Every rotation, each checked against its tag.
    static func verifiedRotations(_ tx: some StoreReading, integrity: RecordIntegrity) throws -> [StoredRotation] {
        let rotations = try tx.rotations()
        for rotation in rotations {
            try RecordIntegrity.check(rotation.tag, try integrity.rotation(id: rotation.id, fields: rotation.fields, startedBy: rotation.startedBy,
                                                                           startedAt: rotation.startedAt, finishedAt: rotation.finishedAt),
                                      "key_rotations \(rotation.id)")
        }
        return rotations
    }

    /// Per rotating field, how many values are still sealed under a version older than its target
    /// (fields with none left are absent): one scan of the store's values per entity.
    static func valuesUnderOlderVersions(_ targets: [(field: String, version: UInt32)], schema: Schema, in tx: some StoreReading) throws -> [String: Int] {
        var left: [String: Int] = [:]
        var byEntity: [Entity: [String: UInt32]] = [:]
        for target in targets {
            let (entity, field) = try Self.splitField(target.field, schema: schema)
            byEntity[entity, default: [:]][field.name] = target.version
        }
        for (entity, versions) in byEntity {
            for (field, count) in try tx.sealedValueCountsBelow(entity, versions: versions) {
                left[KeyScope.fieldName(entity, field), default: 0] += count
            }
        }
        return left
    }

    /// Rotates the keys of personal fields: creates a new version of each field's seal, mask and
    /// index keys, grants it to every principal whose role needs it, then re-encrypts every value
    /// and rebuilds every index entry, `batchSize` values per transaction. Reads, searches and
    /// writes keep working throughout (searches consult every index version held; new writes use
    /// the new version). An interrupted rotation is finished with `resume: true`.
    ///
    /// - Parameters:
    ///   - fields: `customers.email` or bare customer field names; empty means every personal field.
    ///   - resume: Continue the unfinished rotation instead of starting one.
    /// - Throws: ``VaultError`` `.conflict` when a rotation is unfinished (and `resume` is false),
    ///   `.notFound` when `resume` is set and none is, `.accessDenied` for non-custodians.
    func rotateKeys(fields requested: [String] = [], resume: Bool = false, batchSize: Int = defaultRotationBatchSize,
                           progress: (@Sendable (RotationProgress) -> Void)? = nil) async throws -> RotationReport {
        guard (1...100_000).contains(batchSize) else { throw VaultError.invalidInput("batch size must be between 1 and 100000") }
        let decision = try await requireAllowed(AccessRequest(.rotateKeys))
        let fields: [String]
        if resume {
            guard let unfinished = try await perform(AccessRequest(.rotateKeys), { tx, note in
                note.target = "keys"
                return try Self.unfinishedRotation(tx, integrity: try note.codec.integrity)
            }) else { throw VaultError.notFound("no rotation is in progress") }
            fields = unfinished.fields
        } else {
            fields = try resolveFields(requested)
            try await startRotation(fields)
        }
        var versions: [String: UInt32] = [:]
        let targets = try await perform(AccessRequest(.rotateKeys)) { [schema] tx, note in
            note.target = "keys"
            note.detail = "rotation: counting values to re-encrypt"
            var targets: [(field: String, version: UInt32)] = []
            for name in fields {
                guard let version = note.codec.keyring.currentKey(field: name, purpose: .seal)?.version else {
                    throw VaultError.accessDenied("access denied: this principal holds no key for \(name)")
                }
                targets.append((name, version))
            }
            let total = try Self.valuesUnderOlderVersions(targets, schema: schema, in: tx).values.reduce(0, +)
            return (targets, total)
        }
        for target in targets.0 { versions[target.field] = target.version }
        var done = 0
        progress?(RotationProgress(done: 0, total: targets.1))
        // Passes repeat until nothing older is left, which also picks up values written under an
        // old version meanwhile by a process that had not yet seen the new keys.
        // One pass per entity in primary-key order (no secondary index to maintain), every
        // rotating field of a record in the same batch. The next batch is read and re-sealed on
        // other threads while the current one is written.
        let byEntity = Dictionary(grouping: targets.0) { target in target.field.split(separator: ".").first.map(String.init) ?? "" }
        while true {
            var moved = 0
            for entity in Entity.allCases {
                guard let entityTargets = byEntity[entity.rawValue] else { continue }
                var next = Task { try await self.prepareBatch(entity, targets: entityTargets, after: 0, limit: batchSize, decision: decision) }
                while let batch = try await next.value {
                    next = Task { try await self.prepareBatch(entity, targets: entityTargets, after: batch.cursor, limit: batchSize, decision: decision) }
                    if batch.records.isEmpty { continue }
                    let count: Int
                    do {
                        count = try await writeBatch(entity, batch)
                    } catch {
                        next.cancel()
                        throw error
                    }
                    moved += count
                    done += count
                    if count > 0 { progress?(RotationProgress(done: done, total: max(done, targets.1))) }
                }
            }
            if try await finishRotation(targets.0) { break }
            if moved == 0 { throw VaultError.io("the rotation cannot finish: values under older versions remain but none could be moved") }
        }
        return RotationReport(fields: fields, versions: versions, reencrypted: done, resumed: resume)
    }

    /// `customers.email` or a bare customers field → the qualified personal field names.
    private func resolveFields(_ requested: [String]) throws -> [String] {
        if requested.isEmpty {
            return Entity.allCases.flatMap { entity in schema.personalFields(of: entity).map { KeyScope.fieldName(entity, $0.name) } }
        }
        return try requested.map { name in
            let qualified = name.contains(".") ? name : KeyScope.fieldName(.customers, name)
            guard schema.isPersonalField(qualified) else {
                throw VaultError.invalidInput("\(PolicyLoader.shown(name)) is not a personal field of the schema (only sealed fields have keys)")
            }
            return qualified
        }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    }

    static func splitField(_ qualified: String, schema: Schema) throws -> (Entity, FieldSchema) {
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let entity = Entity(rawValue: parts[0]), let field = schema.field(entity, parts[1]) else {
            throw VaultError.integrity("rotation names an unknown field \(qualified)")
        }
        return (entity, field)
    }

    /// One transaction: new key versions, their grants to every principal, the rotation record.
    private func startRotation(_ fields: [String]) async throws {
        let current = keyring
        var fresh: [KeyScope: SecretBytes] = [:]
        for name in fields {
            let (_, field) = try Self.splitField(name, schema: schema)
            let version = (current.allVersions(field: name, purpose: .seal).first?.version ?? 0) + 1
            fresh[KeyScope(field: name, purpose: .seal, version: version)] = try SecretBytes(randomCount: 32)
            if field.mask != nil { fresh[KeyScope(field: name, purpose: .mask, version: version)] = try SecretBytes(randomCount: 32) }
            if field.search != nil { fresh[KeyScope(field: name, purpose: .index, version: version)] = try SecretBytes(randomCount: 32) }
        }
        var all: [KeyScope: SecretBytes] = [:]
        for scope in current.scopes { all[scope] = current.key(scope) }
        all.merge(fresh) { _, new in new }
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: Keyring(keys: all, existingScopes: []))
        let newKeys = fresh
        try await perform(AccessRequest(.rotateKeys)) { [policy, principal] tx, note in
            let integrity = try note.codec.integrity
            if let unfinished = try Self.unfinishedRotation(tx, integrity: integrity) {
                throw VaultError.conflict("a rotation of \(unfinished.fields.joined(separator: ", ")) is unfinished", remedy: .resumeRotation)
            }
            let now = Timestamps.now()
            try KeyProvisioner.recordKeys(newKeys, integrity: integrity, in: tx, now: now)
            let id = try tx.nextRotationID()
            let list = fields.joined(separator: ",")
            try tx.insertRotation(StoredRotation(id: id, fields: list, startedBy: principal, startedAt: now, finishedAt: nil,
                                                 tag: try integrity.rotation(id: id, fields: list, startedBy: principal, startedAt: now, finishedAt: nil)))
            var granted = 0
            for record in try tx.principals() {
                granted += try provisioner.provision(record, role: policy.role(record.role), in: tx).added
            }
            note.target = "keys:" + fields.joined(separator: ",")
            note.detail = "rotation started: \(newKeys.count) new keys, \(granted) grants"
        }
    }

    /// One batch of re-sealed records, ready to write.
    struct RotationBatch: Sendable {
        struct Item: Sendable {
            var field: FieldSchema
            var version: UInt32
            /// The value's new index digest (searchable customer fields).
            var digest: [UInt8]?
        }
        /// One record: its row as it will be (new sealed digest, index digests and tag), and the tag
        /// it had when read; the write applies only if the stored row still has that tag.
        struct Record: Sendable {
            var recordID: Int64
            var previousTag: [UInt8]
            /// The index digests the row committed to when read: the entries the new ones replace.
            var previousDigests: IndexDigests?
            /// The record's whole set of sealed values after re-sealing (what its new row commits to).
            var sealed: [SealedEntry]
            var customer: CustomerRow?
            var history: HistoryRow?
            var items: [Item]
        }
        var records: [Record]
        /// The last record read (primary-key order); the next batch starts after it.
        var cursor: Int64
    }

    /// Reads the stored values of the next records of `entity` after `cursor` (about `limit`
    /// values, whole records only) and re-seals those of the rotating fields still under an older
    /// version, with their index digests and the records' new tags. Each record read is checked
    /// against its row's tag and sealed digest first: rotation never launders a value it could not
    /// verify. Reads a snapshot and writes nothing; nil at the end of the table.
    private func prepareBatch(_ entity: Entity, targets: [(field: String, version: UInt32)], after cursor: Int64,
                              limit: Int, decision: AccessDecision) async throws -> RotationBatch? {
        let keyring = keyState.current.keyring
        struct Plan: Sendable {
            var field: FieldSchema
            var version: UInt32
            var sealKey: SecretBytes
            var maskKey: SecretBytes?
            var indexKey: SecretBytes?
            /// The associated-data contexts of the full and masked views (worked out once, not per value).
            var plain: EnvelopeContext
            var masked: EnvelopeContext
        }
        var plans: [String: Plan] = [:]
        for target in targets {
            let (_, field) = try Self.splitField(target.field, schema: schema)
            guard let sealKey = keyring.key(KeyScope(field: target.field, purpose: .seal, version: target.version)) else {
                throw VaultError.accessDenied("access denied: this principal holds no key for \(target.field) version \(target.version)")
            }
            plans[field.name] = Plan(field: field, version: target.version, sealKey: sealKey,
                                     maskKey: keyring.key(KeyScope(field: target.field, purpose: .mask, version: target.version)),
                                     indexKey: keyring.key(KeyScope(field: target.field, purpose: .index, version: target.version)),
                                     plain: EnvelopeContext(vaultID: vaultIDBytes, entity: entity, field: field.name, view: .plain),
                                     masked: EnvelopeContext(vaultID: vaultIDBytes, entity: entity, field: field.name, view: .masked))
        }
        // Open with every version the custodian holds, whatever the policy's views say.
        let reader = RecordCodec(schema: schema, keyring: keyring, vaultID: vaultIDBytes, views: [:], sessions: .none, sessionKeys: sessionKeys)
        let integrity = try reader.integrity
        let planned = plans
        struct Scanned: Sendable {
            var recordID: Int64
            var entries: [SealedEntry]
            var customer: CustomerRow?
            var history: HistoryRow?
        }
        let scan = try await readAllowed(by: decision) { tx -> (records: [Scanned], last: Int64?) in
            // Whole records, about `limit` values.
            var grouped: [(Int64, [SealedEntry])] = []
            for scanned in try tx.sealedEntries(entity, after: cursor, limit: limit) {
                let recordID = scanned.recordID
                if grouped.last?.0 == recordID { grouped[grouped.count - 1].1.append(scanned.entry) } else { grouped.append((recordID, [scanned.entry])) }
            }
            guard let last = grouped.last else { return ([], nil) }
            var records: [Scanned] = []
            for (recordID, entries) in grouped {
                guard entries.contains(where: { entry in planned[entry.field].map { entry.keyVersion < Int64($0.version) } ?? false }) else { continue }
                var record = Scanned(recordID: recordID, entries: entries)
                let digest: [UInt8]
                if entity == .customers {
                    guard let row = try tx.customerRow(id: recordID) else {
                        throw VaultError.integrity("sealed values of customers \(recordID), which does not exist")
                    }
                    try row.verify(integrity)
                    record.customer = row
                    digest = row.sealedDigest
                } else {
                    guard let row = try tx.historyRow(entity, id: recordID) else {
                        throw VaultError.integrity("sealed values of \(entity.rawValue) \(recordID), which does not exist")
                    }
                    try row.verify(integrity)
                    record.history = row
                    digest = row.sealedDigest
                }
                try SealedEntries.check(entries, entity: entity, recordID: recordID, expected: digest)
                // Write sessions need the database to load; everything else runs on all cores.
                for entry in entries where FieldEnvelope.session(of: entry.sealed) != nil && planned[entry.field] != nil {
                    _ = try reader.open(entry.sealed, slot: SealedSlot(entity: entity, field: entry.field, recordID: recordID, view: .plain),
                                        claimedVersion: UInt32(clamping: entry.keyVersion), in: tx)
                }
                records.append(record)
            }
            return (records, last.0)
        }
        guard let last = scan.last else { return nil }
        let scanned = scan.records
        let results = RecordCodec.concurrently(scanned.count) { index -> RotationBatch.Record in
            let record = scanned[index]
            var entries = record.entries
            var items: [RotationBatch.Item] = []
            var indexDigests = record.customer?.indexDigests ?? IndexDigests()
            for (position, entry) in record.entries.enumerated() {
                guard let plan = planned[entry.field], entry.keyVersion < Int64(plan.version) else { continue }
                let field = plan.field
                let plainSlot = SealedSlot(entity: entity, field: field.name, recordID: record.recordID, view: .plain)
                guard let value = try reader.open(entry.sealed, slot: plainSlot, claimedVersion: UInt32(clamping: entry.keyVersion)) else {
                    throw VaultError.accessDenied("access denied: \(field.name) of \(entity.rawValue) \(record.recordID) is under a key this principal lacks")
                }
                let sealed = try FieldEnvelope.seal(value, key: plan.sealKey, keyVersion: plan.version, context: plan.plain, recordID: record.recordID)
                var masked: [UInt8]?
                if let mask = field.mask, let maskKey = plan.maskKey {
                    masked = try FieldEnvelope.seal(Masking.mask(value, as: mask), key: maskKey, keyVersion: plan.version, context: plan.masked,
                                                    recordID: record.recordID)
                }
                var digest: [UInt8]?
                if entity == .customers, let search = field.search, let indexKey = plan.indexKey {
                    let form = search.normalization == .name ? Normalization.name(value) : value
                    let computed = try BlindIndex.digest(form, key: indexKey, bits: search.indexBits)
                    digest = computed
                    indexDigests[field.name] = .init(version: plan.version, digest: computed)
                }
                entries[position] = .init(field: entry.field, keyVersion: Int64(plan.version), sealed: sealed, masked: masked)
                items.append(.init(field: field, version: plan.version, digest: digest))
            }
            let sealedDigest = try RecordIntegrity.sealedDigest(entries, entity: entity, recordID: record.recordID)
            var customer = record.customer, history = record.history
            let previousTag = customer?.tag ?? history?.tag ?? []
            if var row = customer {
                row.sealedDigest = sealedDigest
                row.indexDigests = indexDigests
                try row.retag(integrity)
                customer = row
            }
            if var row = history {
                row.sealedDigest = sealedDigest
                try row.retag(integrity)
                history = row
            }
            return RotationBatch.Record(recordID: record.recordID, previousTag: previousTag, previousDigests: record.customer?.indexDigests,
                                        sealed: entries, customer: customer, history: history, items: items)
        }
        return RotationBatch(records: try results.map { try $0.get() }, cursor: last)
    }

    /// Writes a prepared batch in one audited transaction. A record changed since it was read (a
    /// concurrent update or delete: its row's tag differs) is skipped; the next pass takes it.
    /// Returns how many values moved.
    ///
    /// The index changes of the written records are applied after the rows, in key order: they
    /// land on random pages, and in key order each index page is visited once per batch instead of
    /// being evicted and read again (RESULTS.md 21). Within one transaction the order changes
    /// nothing but the page traffic.
    private func writeBatch(_ entity: Entity, _ batch: RotationBatch) async throws -> Int {
        try await perform(AccessRequest(.rotateKeys)) { tx, note in
            var ids: [Int64] = []
            var moved = 0
            var added: [IndexEntryKey] = [], removed: [IndexEntryKey] = []
            for record in batch.records {
                // The row and its whole set of sealed values in one write, only if the row is still
                // the one read (its tag covers the values it committed to, which were verified).
                let written = try record.customer.map { try tx.update($0, expectedTag: record.previousTag, sealed: record.sealed) }
                    ?? record.history.map { try tx.update($0, expectedTag: record.previousTag, sealed: record.sealed) } ?? false
                guard written else { continue }
                for item in record.items {
                    moved += 1
                    guard let digest = item.digest else { continue }
                    // The new entry replaces the one the row committed to, in this transaction: a
                    // search consults every version, so it finds the record before, during and after.
                    added.append(IndexEntryKey(field: item.field.name, unique: item.field.unique, version: item.version, digest: digest, customerID: record.recordID))
                    if let old = record.previousDigests?[item.field.name], old != IndexDigests.Entry(version: item.version, digest: digest) {
                        removed.append(IndexEntryKey(field: item.field.name, unique: item.field.unique, version: old.version, digest: old.digest, customerID: record.recordID))
                    }
                }
                ids.append(record.recordID)
            }
            for change in added.sorted() {
                if try tx.addIndexEntry(field: change.field, unique: change.unique, version: change.version, digest: change.digest,
                                        customerID: change.customerID) != nil {
                    throw VaultError.integrity("rotation: two customers hold the same \(change.field) (unique index); check the access log and restore from a backup", remedy: .verifyAuditLog)
                }
            }
            for change in removed.sorted() {
                try tx.removeIndexEntry(field: change.field, unique: change.unique, version: change.version, digest: change.digest,
                                        customerID: change.customerID)
            }
            note.target = AuditChain.bulkTarget(entity: entity, ids: ids)
            note.detail = "rotation: \(moved) values re-encrypted"
            return moved
        }
    }

    /// Marks the rotation finished when no value or index entry of its fields is under an older
    /// version; returns false (and changes nothing) otherwise.
    private func finishRotation(_ targets: [(field: String, version: UInt32)]) async throws -> Bool {
        try await perform(AccessRequest(.rotateKeys)) { [schema] tx, note in
            note.target = "keys:" + targets.map(\.field).joined(separator: ",")
            let left = try Self.valuesUnderOlderVersions(targets, schema: schema, in: tx)
            if let (name, count) = left.filter({ $0.value > 0 }).min(by: { $0.key < $1.key }) {
                note.detail = "rotation not finished: \(count) values of \(name) still under an older version"
                return false
            }
            // Index entries under older versions the passes did not replace (each pass replaces the
            // entries of the records it re-seals): left by an older release's rotation, or planted.
            // Dropped by key range, one per field.
            var superseded: [IndexVersionFloor] = []
            for target in targets {
                let (entity, field) = try Self.splitField(target.field, schema: schema)
                if entity == .customers, field.search != nil {
                    superseded.append(IndexVersionFloor(field: field.name, unique: field.unique, version: target.version))
                }
            }
            try tx.removeIndexEntries(below: superseded)
            let integrity = try note.codec.integrity
            let finishedAt = Timestamps.now()
            for var rotation in try tx.rotations() where rotation.finishedAt == nil {
                rotation.finishedAt = finishedAt
                rotation.tag = try integrity.rotation(id: rotation.id, fields: rotation.fields, startedBy: rotation.startedBy, startedAt: rotation.startedAt,
                                                      finishedAt: finishedAt)
                try tx.updateRotation(rotation)
            }
            note.detail = "rotation finished: " + targets.map { "\($0.field) v\($0.version)" }.joined(separator: ", ")
            return true
        }
    }

    /// Destroys older key versions that no value, index entry or write session uses any more: their
    /// grants are deleted and the keys marked retired. Afterwards an old copy of a ciphertext cannot
    /// be opened with any current keyring.
    ///
    /// - Throws: ``VaultError`` `.conflict` naming what still uses an older version (finish the
    ///   rotation first), or when a rotation is unfinished.
    func retireKeys(fields requested: [String] = []) async throws -> [RetiredKey] {
        try await requireAllowed(AccessRequest(.rotateKeys))
        let fields = try resolveFields(requested)
        let retired = try await perform(AccessRequest(.rotateKeys)) { [schema] tx, note in
            if let unfinished = try Self.unfinishedRotation(tx, integrity: try note.codec.integrity) {
                throw VaultError.conflict("a rotation of \(unfinished.fields.joined(separator: ", ")) is unfinished", remedy: .resumeRotation)
            }
            var retired: [RetiredKey] = []
            let dataKeys = try tx.dataKeys()
            let live = Set(dataKeys.filter { $0.retiredAt == nil }.map(\.scope))
            let integrity = try note.codec.integrity
            let now = Timestamps.now()
            for name in fields {
                let (entity, field) = try Self.splitField(name, schema: schema)
                guard let current = live.filter({ $0.field == name && $0.purpose == .seal }).map(\.version).max() else { continue }
                let old = live.filter { $0.field == name && $0.version < current }
                guard !old.isEmpty else { continue }
                let values = try Self.valuesUnderOlderVersions([(name, current)], schema: schema, in: tx)[name] ?? 0
                var index = 0
                if entity == .customers, field.search != nil {
                    index = try tx.indexEntryCounts(field: field.name, unique: field.unique).filter { $0.key < current }.values.reduce(0, +)
                }
                guard values == 0 && index == 0 else {
                    throw VaultError.conflict("\(name): older key versions still protect \(values) values and \(index) index entries", remedy: .rotateFirst(field: name))
                }
                try tx.deleteWriteSessions(field: name, below: current)
                for scope in old.sorted(by: { ($0.purpose.rawValue, $0.version) < ($1.purpose.rawValue, $1.version) }) {
                    for key in dataKeys where key.scope == scope {
                        try tx.retireDataKey(id: key.id, at: now, tag: try integrity.dataKey(id: key.id, scope: scope, publicKey: nil, retiredAt: now))
                    }
                    retired.append(RetiredKey(field: scope.field, purpose: scope.purpose.rawValue, version: scope.version))
                }
            }
            note.target = "keys:" + fields.joined(separator: ",")
            note.detail = "retired \(retired.count) key versions"
            return retired
        }
        // Move the deleted grants out of the write-ahead log too (secure_delete zeroes freed pages).
        try await checkpoint()
        return retired
    }
}
