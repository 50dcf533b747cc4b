import Foundation
import GRDB
import VaultCrypto

extension CustomerVault {
    /// Columns of a customer export that are not schema fields (ignored on import).
    static let exportOnlyColumns = ["id", "age_band", "created_at", "updated_at"]

    /// Rows committed per transaction. An interrupted import resumes after the last committed batch.
    public static let defaultImportBatchSize = 1_000

    /// Imports a CSV file of customers, transactions or interactions.
    ///
    /// The file is streamed (memory does not grow with it) and committed in batches. Each batch
    /// commits its rows, its refused rows and the import's progress in one transaction, so an
    /// interrupted import resumes exactly where it stopped when the same file is imported again,
    /// and a file imported completely is not imported twice. A refused row is never half-stored.
    ///
    /// Headers: customers use schema field names (`name,email,…`); transactions and interactions
    /// use `customer_email` plus their schema fields.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` for a wrong header (nothing is imported), `.notFound`
    ///   for a missing file. Bad rows do not throw; they are listed in the report.
    public func importCSV(_ entity: Entity, from path: String, batchSize: Int = defaultImportBatchSize,
                          progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> ImportReport {
        guard FileManager.default.fileExists(atPath: path) else { throw VaultError.notFound("no file \(path)") }
        guard (1...100_000).contains(batchSize) else { throw VaultError.invalidInput("batch size must be between 1 and 100000") }
        let decision = try await requireAllowed(AccessRequest(.importData))
        let digest = try Self.fileDigest(path)
        try Self.checkStructure(path)
        let totalBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let reader: CSVReader
        do {
            reader = try CSVReader(fileURL: URL(fileURLWithPath: path))
        } catch {
            throw VaultError.io("cannot read \(path)")
        }
        let columns = try readHeader(reader, entity: entity, file: path)

        let integrity = try recordIntegrity
        let state = try await readAllowed(by: decision) { db in try ImportState.fetch(db, digest: digest, integrity: integrity) }
        if let state, state.finished {
            return ImportReport(kind: entity, accepted: state.accepted, rejected: state.rejected, resumedAfterRecord: nil,
                                alreadyImported: true, rejects: try await importRejects(digest, integrity: integrity, allowedBy: decision))
        }
        var done = state ?? ImportState(recordsDone: 1, accepted: 0, rejected: 0, finished: false)
        let resumedAfter = state.map(\.recordsDone)
        if let resumedAfter {
            Self.logger.notice("resuming an interrupted import", metadata: ["kind": "\(entity.rawValue)", "after_record": "\(resumedAfter)"])
        }

        // The next batch is read and validated while the current one commits.
        let batches = ImportBatchReader(reader: reader, columns: columns, validator: validator,
                                        committedThrough: done.recordsDone, batchSize: batchSize)
        var upcoming = Task.detached { batches.next() }
        defer { upcoming.cancel() }
        while true {
            let batch = await upcoming.value
            if !batch.endOfFile { upcoming = Task.detached { batches.next() } }
            do {
                done = try await commitBatch(batch.rows, entity: entity, digest: digest, state: done, finished: batch.endOfFile)
            } catch let error as VaultError where error.code == .io {
                // Disk full, a read-only or vanished file: say what is safe and how to go on.
                throw VaultError.io("\(error.message); the import stopped at record \(batch.rows.first?.record ?? done.recordsDone + 1) with "
                    + "\(done.accepted) rows accepted and committed before it; once the cause is fixed, the same command resumes after record \(done.recordsDone)")
            }
            Self.logger.debug("import batch committed", metadata: ["records_done": "\(done.recordsDone)", "accepted": "\(done.accepted)"])
            progress?(ImportProgress(bytesRead: batch.bytesRead, totalBytes: totalBytes, accepted: done.accepted, rejected: done.rejected))
            if batch.endOfFile { break }
        }
        return ImportReport(kind: entity, accepted: done.accepted, rejected: done.rejected, resumedAfterRecord: resumedAfter,
                            alreadyImported: false, rejects: try await importRejects(digest, integrity: integrity, allowedBy: decision))
    }

    /// A CSV error as an import reject reason, with the limit a too-large record broke.
    static func describe(_ error: CSVError, reader: CSVReader) -> String {
        switch error.kind {
        case .recordTooLong: "\(error.description) (longer than \(reader.maximumRecordBytes) bytes)"
        case .tooManyFields: "\(error.description) (more than \(reader.maximumFields) fields)"
        default: error.description
        }
    }

    /// Reads the header line and checks it (see ``ImportColumns``).
    private func readHeader(_ reader: CSVReader, entity: Entity, file: String) throws -> ImportColumns {
        let header: CSVRecord
        do {
            guard let first = try reader.next() else { throw VaultError.invalidInput("\(file): the file is empty (expected a header line)") }
            header = first
        } catch let error as CSVError {
            throw VaultError.invalidInput("\(file): header: \(error.description)")
        }
        return try ImportColumns(header: header, entity: entity, schema: schema, file: file)
    }

    /// Commits one batch: its accepted rows, its rejects and the import's progress, atomically.
    private func commitBatch(_ batch: [ImportRow], entity: Entity, digest: [UInt8], state: ImportState, finished: Bool) async throws -> ImportState {
        var written = Set<String>()
        for row in batch { if case .valid(let values, _) = row.outcome { written.formUnion(values.filter { !$0.value.isEmpty }.keys) } }
        let request = AccessRequest(.importData, writes: writtenFieldNames(written, entity: entity))
        return try await perform(request) { [validator] db, note in
            let codec = note.codec
            var next = state
            var ids: [Int64] = []
            var rejects: [ImportReject] = []
            let now = Timestamps.now()
            // Reserve ids under the write lock, then seal and hash the (already validated) rows on
            // all cores while this writer inserts each one, in file order, as soon as it is ready.
            let firstID = try RecordCodec.nextRecordID(entity, db: db)
            let consentIDs = ConsentEvents.Numbering()
            try RecordCodec.pipelined(batch.count, produce: { index -> PreparedRecord? in
                guard case .valid(let values, _) = batch[index].outcome else { return nil }
                return try codec.prepare(values, entity: entity, recordID: firstID + Int64(index), today: validator.today, now: now)
            }, consume: { index, outcome in
                let row = batch[index]
                defer { next.recordsDone = max(next.recordsDone, row.record) }
                switch (row.outcome, outcome) {
                case (.rejected(let field, let reason), _):
                    rejects.append(ImportReject(record: row.record, line: row.line, field: field, reason: reason))
                case (_, .failure(let problem as FieldProblem)):
                    rejects.append(ImportReject(record: row.record, line: row.line, field: problem.field, reason: problem.reason))
                case (_, .failure(let error)):
                    throw error
                case (.valid(let values, let email), .success(let record?)):
                    do {
                        if entity == .customers {
                            if !note.decision.rows.isUnrestricted, !note.admits(customerAttributes: values) {
                                throw FieldProblem(field: "", reason: "is outside the rows this role may access")
                            }
                            try codec.checkUnique(record.probes, except: nil, db: db)
                            try codec.store(record, entity: entity, customerID: nil, now: now, consentIDs: consentIDs, db: db)
                        } else {
                            guard let email, let customerID = try codec.customerID(forEmail: email, db: db),
                                  try Self.visibleAttributes(customerID, note: note, db: db) != nil else {
                                throw FieldProblem(field: "customer_email", reason: "no customer has this e-mail address")
                            }
                            try codec.store(record, entity: entity, customerID: customerID, now: now, db: db)
                        }
                        ids.append(record.id)
                    } catch let error as VaultError where error.code == .conflict {
                        rejects.append(ImportReject(record: row.record, line: row.line, field: "email", reason: "a customer with this e-mail already exists"))
                    } catch let problem as FieldProblem {
                        rejects.append(ImportReject(record: row.record, line: row.line, field: problem.field, reason: problem.reason))
                    }
                case (.valid, .success(nil)):
                    throw VaultError.io("record \(row.record) was not prepared")
                }
            })
            next.accepted += ids.count
            next.rejected += rejects.count
            next.finished = finished
            let integrity = try codec.integrity
            try next.save(db, digest: digest, kind: entity, integrity: integrity)
            for reject in rejects {
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO import_rejects (file_digest, record, line, field, reason, tag) VALUES (?, ?, ?, ?, ?, ?)")
                    .execute(arguments: [Data(digest), reject.record, reject.line, reject.field, reject.reason,
                                         Data(try integrity.importReject(digest: digest, reject))])
            }
            note.target = AuditTrail.bulkTarget(entity: entity, ids: ids)
            note.detail = "import batch: \(ids.count) accepted, \(rejects.count) rejected"
            return next
        }
    }

    private func importRejects(_ digest: [UInt8], integrity: RecordIntegrity, allowedBy decision: AccessDecision) async throws -> [ImportReject] {
        try await readAllowed(by: decision) { db in
            try Row.fetchAll(db, sql: "SELECT record, line, field, reason, tag FROM import_rejects WHERE file_digest = ? ORDER BY record",
                             arguments: [Data(digest)]).map { row in
                let reject = ImportReject(record: try row.checked("record"), line: try row.checked("line"), field: try row.checked("field"), reason: try row.checked("reason"))
                try RecordIntegrity.check((try row.checked("tag") as Data?).map { [UInt8]($0) }, try integrity.importReject(digest: digest, reject),
                                          "import_rejects record \(reject.record)")
                return reject
            }
        }
    }

    /// Refuses, before anything is stored, a file whose quoting breaks the rest of it: an
    /// unterminated quote would make every following row unreadable.
    static func checkStructure(_ path: String) throws {
        let reader: CSVReader
        do { reader = try CSVReader(fileURL: URL(fileURLWithPath: path)) } catch { throw VaultError.io("cannot read \(path)") }
        while true {
            do {
                guard try reader.next() != nil else { return }
            } catch {
                if error.kind == .unterminatedQuote || error.kind == .ioFailure {
                    throw VaultError.invalidInput("\(path) \(error.description); nothing was imported")
                }
            }
        }
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
    var finished: Bool

    static func fetch(_ db: Database, digest: [UInt8], integrity: RecordIntegrity) throws -> ImportState? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT kind, records_done, accepted, rejected, started_at, updated_at, finished_at, tag FROM imports WHERE file_digest = ?
            """, arguments: [Data(digest)]) else { return nil }
        let state = ImportState(recordsDone: try row.checked("records_done"), accepted: try row.checked("accepted"), rejected: try row.checked("rejected"),
                                finished: (try row.checked("finished_at") as String?) != nil)
        try RecordIntegrity.check((try row.checked("tag") as Data?).map { [UInt8]($0) },
                                  try integrity.importState(digest: digest, kind: try row.checked("kind"), recordsDone: state.recordsDone, accepted: state.accepted,
                                                            rejected: state.rejected, startedAt: try row.checked("started_at"), updatedAt: try row.checked("updated_at"),
                                                            finishedAt: try row.checked("finished_at")),
                                  "imports entry \(Hex.encode(digest.prefix(8)))")
        return state
    }

    func save(_ db: Database, digest: [UInt8], kind: Entity, integrity: RecordIntegrity) throws {
        let now = Timestamps.now()
        let startedAt = try String.fetchOne(db, sql: "SELECT started_at FROM imports WHERE file_digest = ?", arguments: [Data(digest)]) ?? now
        let finishedAt = finished ? now : nil
        let tag = try integrity.importState(digest: digest, kind: kind.rawValue, recordsDone: recordsDone, accepted: accepted, rejected: rejected,
                                            startedAt: startedAt, updatedAt: now, finishedAt: finishedAt)
        try db.execute(sql: """
            INSERT INTO imports (file_digest, kind, records_done, accepted, rejected, started_at, updated_at, finished_at, tag)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (file_digest) DO UPDATE SET kind = excluded.kind, records_done = excluded.records_done, accepted = excluded.accepted,
                rejected = excluded.rejected, updated_at = excluded.updated_at, finished_at = excluded.finished_at, tag = excluded.tag
            """, arguments: [Data(digest), kind.rawValue, recordsDone, accepted, rejected, startedAt, now, finishedAt, Data(tag)])
    }
}
