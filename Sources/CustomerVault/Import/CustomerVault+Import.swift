import Foundation
import VaultCrypto
import VaultCore
import VaultStore

extension CustomerVault {
    /// Rows committed per transaction. An interrupted import resumes after the last committed batch.
    ///
    /// Each commit writes every page its batch touched to the write-ahead log, and blind-index
    /// entries land on random pages, so a batch of 1,000 rewrote most of the index pages per
    /// commit: 5,000 imports 100,000 customers 1.35x faster and 1,000,000 1.5x faster, with a peak
    /// memory still within the 10,000-row import's 1.2x (10,000 was no faster and went past it;
    /// Benchmarks/RESULTS.md 19).
    public static let defaultImportBatchSize = 5_000

    /// Imports a CSV file of customers, transactions or interactions (see
    /// ``importCSV(_:from:options:progress:)``) with the schema's time zone and country.
    func importCSV(_ entity: Entity, from path: String, batchSize: Int = defaultImportBatchSize,
                          progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> ImportReport {
        try await importCSV(entity, from: path, options: ImportOptions(batchSize: batchSize), progress: progress)
    }

    /// Imports a CSV file of customers, transactions or interactions.
    ///
    /// The file is streamed (memory does not grow with it) and committed in batches. Each batch
    /// commits its rows, its refused rows and the import's progress in one transaction, so an
    /// interrupted import resumes exactly where it stopped when the same file is imported again
    /// with the same options, and a file imported completely is not imported twice. A refused row
    /// is never half-stored. A row whose natural key (a customer's e-mail, a plain `unique` field
    /// such as a transaction's `order_id`) a stored record holds already is left alone and counted
    /// in ``ImportReport/alreadyStored``, so an overlapping export imports without doubling.
    ///
    /// Headers: customers use schema field names (`name,email,…`); transactions and interactions
    /// use `customer_email` plus their schema fields. Names match regardless of case, spaces and
    /// hyphens (`Customer Email` reads as `customer_email`).
    ///
    /// - Throws: ``VaultError`` `.invalidInput` for a wrong header or option (nothing is imported),
    ///   `.notFound` for a missing file. Bad rows do not throw; each is listed in the report with
    ///   every problem it has.
    func importCSV(_ entity: Entity, from path: String, options: ImportOptions,
                          progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> ImportReport {
        guard FileManager.default.fileExists(atPath: path) else { throw VaultError.notFound("no file \(path)") }
        guard (1...100_000).contains(options.batchSize) else { throw VaultError.invalidInput("batch size must be between 1 and 100000") }
        let rowValidator = try options.validator(schema: schema)
        let decision = try await requireAllowed(AccessRequest(.importData))
        if options.mode == .upsert {
            guard !options.restore else {
                throw VaultError.invalidInput("a restore gives back a cvault export into an empty vault; it does not update stored records (leave out upsert)")
            }
            // Changing stored records is an update, whatever the import right says: customer.update,
            // and for history also the entity's write right (a write-only intake role has neither).
            try await requireAllowed(AccessRequest(.customerUpdate))
            if entity != .customers { try await requireAllowed(AccessRequest(entity == .transactions ? .transactionWrite : .interactionWrite)) }
        }
        let digest = try options.importIdentity(fileDigest: Self.fileDigest(path))
        try Self.checkStructure(path, options: options)
        let totalBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let reader = try options.reader(path)
        let columns = try readHeader(reader, entity: entity, file: path, restore: options.restore)
        let zone = options.timeZone ?? schema.timeZone

        let integrity = try recordIntegrity
        let state = try await readAllowed(by: decision) { tx in try ImportState.fetch(tx, digest: digest, integrity: integrity) }
        if let state, state.finished {
            return ImportReport(kind: RecordKind(entity), accepted: state.accepted, rejected: state.rejected, alreadyStored: state.alreadyStored, updated: state.updated, timeZone: zone,
                                resumedAfterRecord: nil, alreadyImported: true, finishedAt: state.finishedAt,
                                rejects: try await importRejects(digest, integrity: integrity, allowedBy: decision))
        }
        var done = state ?? ImportState(recordsDone: 1, accepted: 0, rejected: 0, alreadyStored: 0, finishedAt: nil)
        let resumedAfter = state.map(\.recordsDone)
        if let resumedAfter {
            Self.logger.notice("resuming an interrupted import", metadata: ["kind": "\(entity.rawValue)", "after_record": "\(resumedAfter)"])
        }

        // The next batch is read and validated while the current one commits.
        let batches = ImportBatchReader(reader: reader, columns: columns, validator: rowValidator,
                                        committedThrough: done.recordsDone, batchSize: options.batchSize)
        let seen = ImportKeys()
        var upcoming = Task.detached { batches.next() }
        defer { upcoming.cancel() }
        while true {
            let batch = await upcoming.value
            if !batch.endOfFile { upcoming = Task.detached { batches.next() } }
            do {
                done = try await commitBatch(batch.rows, entity: entity, digest: digest, state: done, finished: batch.endOfFile,
                                             today: rowValidator.today, seen: seen, mode: options.mode)
            } catch let error as VaultError where error.code == .io {
                // Disk full, a read-only or vanished file: say what is safe and how to go on.
                throw VaultError.io("\(error.message); the import stopped at record \(batch.rows.first?.record ?? done.recordsDone + 1) with "
                    + "\(done.accepted) rows accepted and committed before it; once the cause is fixed, the same command resumes after record \(done.recordsDone)")
            }
            Self.logger.debug("import batch committed", metadata: ["records_done": "\(done.recordsDone)", "accepted": "\(done.accepted)"])
            progress?(ImportProgress(bytesRead: batch.bytesRead, totalBytes: totalBytes, accepted: done.accepted, rejected: done.rejected))
            if batch.endOfFile { break }
        }
        return ImportReport(kind: RecordKind(entity), accepted: done.accepted, rejected: done.rejected, alreadyStored: done.alreadyStored, updated: done.updated, timeZone: zone,
                            resumedAfterRecord: resumedAfter, alreadyImported: false, finishedAt: nil,
                            rejects: try await importRejects(digest, integrity: integrity, allowedBy: decision))
    }

    /// A CSV error as an import reject reason, with the limit a too-large record broke.
    static func describe(_ error: CSVError, reader: any ImportRecordSource) -> String {
        switch error.kind {
        case .recordTooLong: "\(error.description) (longer than \(reader.maximumRecordBytes) bytes)"
        case .tooManyFields: "\(error.description) (more than \(reader.maximumFields) fields)"
        default: error.description
        }
    }

    /// Reads the header line and checks it (see ``ImportColumns``).
    private func readHeader(_ reader: any ImportRecordSource, entity: Entity, file: String, restore: Bool) throws -> ImportColumns {
        try ImportColumns(header: try Self.headerRecord(reader, file: file), entity: entity, schema: schema, file: file, restore: restore,
                          neutralised: reader.neutralisesFormulas)
    }

    /// The first record of an import file, its header.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` for an empty file or an unreadable header.
    static func headerRecord(_ reader: any ImportRecordSource, file: String) throws -> CSVRecord {
        do {
            guard let first = try reader.next() else { throw VaultError.invalidInput("\(file): the file is empty (expected a header line)") }
            return first
        } catch let error as CSVError {
            throw VaultError.invalidInput("\(file): header: \(error.description)")
        }
    }

    /// Commits one batch: its accepted rows, its rejects and the import's progress, atomically.
    private func commitBatch(_ batch: [ImportRow], entity: Entity, digest: [UInt8], state: ImportState, finished: Bool, today: String,
                             seen: ImportKeys, mode: ImportMode) async throws -> ImportState {
        var written = Set<String>()
        for row in batch {
            guard case .valid(let values, _) = row.outcome else { continue }
            for (field, value) in values where !value.isEmpty { written.insert(field) }
        }
        let request = AccessRequest(.importData, writes: writtenFieldNames(written, entity: entity))
        return try await perform(request) { [schema] tx, note in
            let codec = note.codec
            let integrity = try codec.integrity
            var next = state
            var ids: [Int64] = []
            var rejects: [ImportReject] = []
            var alreadyStored = 0
            var updatedIDs: [Int64] = []
            let now = Timestamps.now()
            /// Changes a stored record to the row's non-empty values (upsert), or refuses the row
            /// with the reason; a refused change leaves nothing behind (its own savepoint).
            func upsert(_ apply: () throws -> Void) throws {
                do {
                    try tx.savepoint(apply)
                } catch let error as VaultError where error.code == .notFound {
                    // No id: a role limited to some rows learns no more than "already stored" tells.
                    throw FieldProblem(field: "", reason: "matches a stored record outside the rows this role may access")
                } catch let error as VaultError where [.accessDenied, .conflict, .invalidInput].contains(error.code) {
                    throw FieldProblem(field: "", reason: "cannot update the stored record: \(error.message)")
                }
            }
            // Reserve ids under the write lock, then seal and hash the (already validated) rows on
            // all cores while this writer inserts each one, in file order, as soon as it is ready.
            // An exported record keeps its id where this vault never issued it (ids are bound into
            // ciphertexts and never reused), so an export imports into an empty vault as it was.
            let firstID = try tx.nextRecordID(entity)
            var issuedThrough = firstID - 1
            let consentIDs = ConsentEvents.Numbering()
            let plan = codec.sealPlan(entity)
            var indexes = BatchIndexEntries()
            try RecordCodec.pipelined(batch.count, produce: { index -> PreparedRecord? in
                guard case .valid(let values, _) = batch[index].outcome else { return nil }
                return try codec.prepare(values, entity: entity, recordID: batch[index].restored.id ?? firstID + Int64(index), today: today, now: now,
                                         restoring: batch[index].restored, plan: plan)
            }, consume: { index, outcome in
                let row = batch[index]
                defer { next.recordsDone = max(next.recordsDone, row.record) }
                func refuse(_ problems: [FieldProblem]) { rejects.append(ImportReject(record: row.record, line: row.line, problems: problems)) }
                switch (row.outcome, outcome) {
                case (.rejected(let problems), _):
                    refuse(problems)
                case (_, .failure(let problem as FieldProblem)):
                    refuse([problem])
                case (_, .failure(let error)):
                    throw error
                case (.valid(let values, let email), .success(let record?)):
                    do {
                        var customerID: Int64?
                        if entity == .customers {
                            if !note.decision.rows.isUnrestricted, !note.admits(customerAttributes: values) {
                                throw FieldProblem(field: "", reason: "is outside the rows this role may access")
                            }
                        } else if let owner = row.restored.customerID {
                            guard try Self.visibleAttributes(owner, note: note, in: tx) != nil else {
                                throw FieldProblem(field: "customer_id", reason: "no customer has this id")
                            }
                            if let email, try codec.customerID(forEmail: email, in: tx) != owner {
                                throw FieldProblem(field: "customer_email", reason: "is not the e-mail address of the customer that customer_id names")
                            }
                            customerID = owner
                        } else {
                            guard let email, let owner = try codec.customerID(forEmail: email, in: tx),
                                  try Self.visibleAttributes(owner, note: note, in: tx) != nil else {
                                throw FieldProblem(field: "customer_email", reason: "no customer has this e-mail address")
                            }
                            customerID = owner
                        }
                        if let held = try NaturalKeys.firstHeld(entity, values: values, schema: schema, integrity: integrity, in: tx) {
                            if let earlier = seen.record(of: "\(held.field)\u{0}\(held.value)") {
                                throw FieldProblem(field: held.field, reason: "has the same value as record \(earlier) of this file")
                            }
                            if let owner = held.holder.customerID, owner != customerID {
                                throw FieldProblem(field: held.field, reason: "is stored already for another customer (\(entity.rawValue) \(held.holder.recordID))")
                            }
                            guard mode == .upsert, entity != .customers else {
                                alreadyStored += 1
                                return
                            }
                            try upsert {
                                try Self.applyHistoryUpdate(entity, id: held.holder.recordID, values: values.filter { !$0.value.isEmpty }, note: note, today: today, in: tx)
                            }
                            for field in schema.naturalKeys(of: entity) {
                                if let value = values[field.name] { seen.note("\(field.name)\u{0}\(value)", record: row.record) }
                            }
                            updatedIDs.append(held.holder.recordID)
                            return
                        }
                        func checkID() throws {
                            guard row.restored.id != nil, record.id <= issuedThrough else { return }
                            throw FieldProblem(field: "id", reason: "is \(record.id), but this vault has issued ids up to \(issuedThrough) and never reuses one "
                                + "(an id is bound into its record's ciphertexts): import into an empty vault, or import the file as new records (not as a restore) to give the rows new ids")
                        }
                        if entity == .customers {
                            do {
                                try codec.checkUnique(record.probes, except: nil, in: tx)
                            } catch let error as VaultError where error.code == .conflict {
                                if let email = values["email"], let earlier = seen.record(of: "email\u{0}\(email)") {
                                    throw FieldProblem(field: "email", reason: "has the same e-mail address as record \(earlier) of this file")
                                }
                                guard mode == .upsert else {
                                    alreadyStored += 1
                                    return
                                }
                                guard let email = values["email"], let existing = try codec.customerID(forEmail: email, in: tx) else {
                                    throw FieldProblem(field: "", reason: "a unique field has a value stored for another customer")
                                }
                                try upsert {
                                    try Self.applyUpdate(existing, canonical: values.filter { !$0.value.isEmpty }, remove: [], note: note, today: today,
                                                         schema: schema, consentIDs: consentIDs, in: tx)
                                }
                                seen.note("email\u{0}\(email)", record: row.record)
                                updatedIDs.append(existing)
                                return
                            }
                            try checkID()
                            try codec.store(record, entity: entity, customerID: nil, now: now, consentIDs: consentIDs, indexes: &indexes, in: tx)
                            if let email = values["email"] { seen.note("email\u{0}\(email)", record: row.record) }
                        } else {
                            try checkID()
                            try codec.store(record, entity: entity, customerID: customerID, now: now, indexes: &indexes, in: tx)
                        }
                        issuedThrough = max(issuedThrough, record.id)
                        try NaturalKeys.insert(entity, recordID: record.id, values: values, schema: schema, in: tx)
                        for field in schema.naturalKeys(of: entity) {
                            if let value = values[field.name] { seen.note("\(field.name)\u{0}\(value)", record: row.record) }
                        }
                        ids.append(record.id)
                    } catch let problem as FieldProblem {
                        refuse([problem])
                    }
                case (.valid, .success(nil)):
                    throw VaultError.io("record \(row.record) was not prepared")
                }
            })
            try indexes.finish(in: tx)
            next.accepted += ids.count
            next.rejected += rejects.count
            next.alreadyStored += alreadyStored
            next.updated += updatedIDs.count
            next.finishedAt = finished ? now : nil
            try next.save(tx, digest: digest, kind: entity, integrity: integrity, now: now)
            for reject in rejects {
                try tx.writeImportReject(StoredImportReject(digest: digest, record: reject.record, line: reject.line, field: reject.storedField,
                                                            reason: reject.storedReason, tag: try integrity.importReject(digest: digest, reject)))
            }
            note.target = AuditChain.bulkTarget(entity: entity, ids: (ids + updatedIDs).sorted())
            note.detail = "import batch: \(ids.count) accepted, \(rejects.count) rejected, \(alreadyStored) already stored"
                + (mode == .upsert ? ", \(updatedIDs.count) updated" : "")
            return next
        }
    }

    private func importRejects(_ digest: [UInt8], integrity: RecordIntegrity, allowedBy decision: AccessDecision) async throws -> [ImportReject] {
        try await readAllowed(by: decision) { tx in
            try tx.importRejects(digest: digest).map { try ImportReject.verified($0, integrity: integrity) }
        }
    }

    /// Refuses, before anything is stored, a file that cannot be read as a whole: an unterminated
    /// quote (every following row would be unreadable), or bytes that are not UTF-8 (a file in
    /// another encoding would otherwise have each row with an accent refused, or worse, read wrong).
    static func checkStructure(_ path: String, options: ImportOptions = ImportOptions()) throws {
        let reader = try options.reader(path)
        while true {
            do {
                guard try reader.next() != nil else { return }
            } catch {
                if error.kind == .unterminatedQuote || error.kind == .ioFailure {
                    throw VaultError.invalidInput("\(path) \(error.description); nothing was imported")
                }
                if error.kind == .invalidUTF8 {
                    let offset = (try? firstInvalidUTF8(path)).flatMap { $0 }.map { " at byte \($0)" } ?? ""
                    throw VaultError.invalidInput("\(path) line \(error.line): the file is not UTF-8\(offset); nothing was imported. "
                        + "Convert it (iconv -f WINDOWS-1252 -t UTF-8 \(path) > converted.csv) or give its encoding (latin1 or windows-1252)")
                }
            }
        }
    }

    /// The offset of the first byte of `path` that is not part of valid UTF-8, or nil.
    static func firstInvalidUTF8(_ path: String) throws -> Int? {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw VaultError.io("cannot read \(path)") }
        defer { try? handle.close() }
        var offset = 0
        var carry: [UInt8] = []
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            let bytes = carry + [UInt8](chunk)
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                let length = byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 0
                guard length > 0 else { return offset + index }
                if index + length > bytes.count { break }
                if length > 1, String(validating: bytes[index..<(index + length)], as: UTF8.self) == nil { return offset + index }
                index += length
            }
            offset += index
            carry = Array(bytes[index...])
        }
        return carry.isEmpty ? nil : offset
    }

    /// BLAKE2b-256 of a file's bytes: identifies "the same file" for resuming.
    static func fileDigest(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw VaultError.io("cannot read \(path)") }
        defer { try? handle.close() }
        let hasher = try BLAKE2b.Hasher()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return try hasher.finalize()
    }
}

/// Progress of one file's import as stored in the `imports` table.
struct ImportState: Sendable {
    var recordsDone: Int
    var accepted: Int
    var rejected: Int
    var alreadyStored: Int
    var updated = 0
    var finishedAt: String?

    var finished: Bool { finishedAt != nil }

    /// The stored progress of the file with `digest`, checked against its tag.
    static func fetch(_ tx: some StoreReading, digest: [UInt8], integrity: RecordIntegrity) throws -> ImportState? {
        guard let stored = try tx.importEntry(digest: digest) else { return nil }
        try RecordIntegrity.check(stored.tag, try integrity.importState(
            digest: digest, kind: stored.kind, recordsDone: stored.recordsDone, accepted: stored.accepted, rejected: stored.rejected,
            startedAt: stored.startedAt, updatedAt: stored.updatedAt, finishedAt: stored.finishedAt, alreadyStored: stored.alreadyStored,
            updated: stored.updated), "imports entry \(Hex.encode(digest.prefix(8)))")
        return ImportState(recordsDone: stored.recordsDone, accepted: stored.accepted, rejected: stored.rejected, alreadyStored: stored.alreadyStored,
                           updated: stored.updated, finishedAt: stored.finishedAt)
    }

    func save(_ tx: some StoreWriting, digest: [UInt8], kind: Entity, integrity: RecordIntegrity, now: String = Timestamps.now()) throws {
        let startedAt = try tx.importEntry(digest: digest)?.startedAt ?? now
        let tag = try integrity.importState(digest: digest, kind: kind.rawValue, recordsDone: recordsDone, accepted: accepted, rejected: rejected,
                                            startedAt: startedAt, updatedAt: now, finishedAt: finishedAt, alreadyStored: alreadyStored, updated: updated)
        try tx.writeImport(StoredImport(digest: digest, kind: kind.rawValue, recordsDone: recordsDone, accepted: accepted, rejected: rejected,
                                        alreadyStored: alreadyStored, updated: updated, startedAt: startedAt, updatedAt: now, finishedAt: finishedAt, tag: tag))
    }
}

extension ImportReject {
    /// A stored refused record (its problems' fields and reasons paired up again), unchecked.
    static func stored(_ stored: StoredImportReject) throws -> ImportReject {
        guard let reject = ImportReject(record: stored.record, line: stored.line, storedField: stored.field, storedReason: stored.reason) else {
            throw VaultError.integrity("import_rejects record \(stored.record): its fields and reasons do not pair up (altered in the file)")
        }
        return reject
    }

    /// A stored refused record, checked against its tag.
    static func verified(_ stored: StoredImportReject, integrity: RecordIntegrity) throws -> ImportReject {
        let reject = try Self.stored(stored)
        try RecordIntegrity.check(stored.tag, try integrity.importReject(digest: stored.digest, reject), "import_rejects record \(reject.record)")
        return reject
    }
}

/// Natural-key values (and e-mail addresses) an import stored, with their record numbers, so a
/// second row with the same key in the same file names the first. Memory only, for one run; keys
/// are kept as 64-bit hashes (about 20 bytes a row), consulted only for a key the vault already
/// holds, so a hash collision could at worst call a stored row "of this file".
final class ImportKeys: Sendable {
    private let keys = Mutex<[Int: Int32]>([:])

    private static func hash(_ key: String) -> Int {
        var hasher = Hasher()
        hasher.combine(key)
        return hasher.finalize()
    }

    func record(of key: String) -> Int? { keys.withLock { $0[Self.hash(key)].map(Int.init) } }

    func note(_ key: String, record: Int) {
        let hash = Self.hash(key)
        keys.withLock { if $0[hash] == nil { $0[hash] = Int32(clamping: record) } }
    }
}
