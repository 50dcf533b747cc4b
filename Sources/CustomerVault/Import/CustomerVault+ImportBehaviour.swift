import Foundation
import VaultCore
import VaultStore

extension CustomerVault {
    /// Columns of a behaviour file, as ``export(_:format:pageSize:progress:output:)`` writes it.
    static let behaviourColumns = ["customer_id", "customer_email", "browse", "purchase", "review", "updated_at"]

    /// Imports behaviour counters (CSV or JSON Lines: `customer_email`, or with
    /// ``ImportOptions/restore`` `customer_id`, then `browse`, `purchase`, `review`, optionally
    /// `updated_at`, kept only with `restore`). Each row's counts replace the
    /// customer's stored ones (a file is a snapshot, as a behaviour export is), so importing the
    /// same file again changes nothing and counts its rows as already stored.
    ///
    /// Rows are committed in batches, each in one audited transaction; a bad row is refused with
    /// every problem it has and does not stop the import.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` for a wrong header (nothing is imported),
    ///   `.notFound` for a missing file, `.accessDenied` without `import` and `behaviour.write`.
    func importBehaviour(from path: String, options: ImportOptions = ImportOptions(),
                                progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> ImportReport {
        guard FileManager.default.fileExists(atPath: path) else { throw VaultError.notFound("no file \(path)") }
        guard (1...100_000).contains(options.batchSize) else { throw VaultError.invalidInput("batch size must be between 1 and 100000") }
        _ = try await requireAllowed(AccessRequest(.importData))
        _ = try await requireAllowed(AccessRequest(.behaviourWrite))
        try Self.checkStructure(path, options: options)
        let totalBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let reader = try options.reader(path)
        let header = try Self.headerRecord(reader, file: path)
        let names = header.fields.map(ImportColumns.columnName)
        var problems: [String] = []
        for (index, name) in names.enumerated() where !Self.behaviourColumns.contains(name) || names[..<index].contains(name) {
            problems.append(Self.behaviourColumns.contains(name) ? "column '\(name)' appears twice"
                : "unknown column '\(header.fields[index].trimmedWhitespace)'\(Suggestion.didYouMean(name, among: Self.behaviourColumns))")
        }
        if !names.contains("customer_email") && !(options.restore && names.contains("customer_id")) {
            problems.append(names.contains("customer_id") ? "customer_id names this vault's customers only when restoring a cvault export; give customer_email"
                : "missing required column 'customer_email'")
        }
        guard problems.isEmpty else {
            throw VaultError.invalidInput("\(path) line \(header.line): \(problems.joined(separator: "; ")) (behaviour columns: \(Self.behaviourColumns.joined(separator: ",")))",
                                          remedy: problems.contains { $0.hasPrefix("customer_id names") } ? .restoreExport : nil)
        }

        var report = ImportReport(kind: .behaviour, accepted: 0, rejected: 0, alreadyStored: 0, timeZone: "UTC", resumedAfterRecord: nil,
                                  alreadyImported: false, finishedAt: nil, rejects: [])
        var ended = false
        while !ended {
            var batch: [CSVRecordOrError] = []
            while batch.count < options.batchSize {
                do {
                    guard let record = try reader.next() else { ended = true; break }
                    batch.append(.record(record))
                } catch {
                    batch.append(.error(error, Self.describe(error, reader: reader)))
                    if error.kind == .unterminatedQuote || error.kind == .ioFailure { ended = true; break }
                }
            }
            let outcome = try await perform(AccessRequest(.behaviourWrite)) { [batch, restore = options.restore, neutralised = reader.neutralisesFormulas] tx, note in
                var outcome = (stored: 0, unchanged: 0, rejects: [ImportReject](), ids: [Int64]())
                let integrity = try note.codec.integrity
                let now = Timestamps.now()
                for item in batch {
                    switch item {
                    case .error(let error, let reason):
                        outcome.rejects.append(ImportReject(record: error.recordNumber, line: error.line, problems: [FieldProblem(field: "", reason: reason)]))
                    case .record(let record):
                        do {
                            let row = try Self.behaviourRow(record, names: names, restore: restore, neutralised: neutralised, note: note, in: tx)
                            if let stored = try Self.loadBehaviourRow(row.customerID, integrity: integrity, in: tx),
                               stored.counters == row.counters, row.updatedAt == nil || row.updatedAt == stored.updatedAt {
                                outcome.unchanged += 1
                                continue
                            }
                            try Self.storeBehaviour(row.customerID, row.counters, integrity: integrity, at: row.updatedAt ?? now, in: tx)
                            outcome.stored += 1
                            outcome.ids.append(row.customerID)
                        } catch let problems as RecordProblems {
                            outcome.rejects.append(ImportReject(record: record.recordNumber, line: record.line, problems: problems.problems))
                        }
                    }
                }
                note.target = AuditChain.bulkTarget(entity: .customers, ids: outcome.ids)
                note.detail = "import batch (behaviour): \(outcome.stored) stored, \(outcome.rejects.count) rejected, \(outcome.unchanged) already stored"
                return outcome
            }
            report.accepted += outcome.stored
            report.alreadyStored += outcome.unchanged
            report.rejected += outcome.rejects.count
            report.rejects += outcome.rejects
            progress?(ImportProgress(bytesRead: reader.bytesRead, totalBytes: totalBytes, accepted: report.accepted, rejected: report.rejected))
        }
        return report
    }

    private enum CSVRecordOrError: Sendable {
        case record(CSVRecord)
        case error(CSVError, String)
    }

    /// One behaviour row, checked: its customer (visible to the role), counts and time.
    private static func behaviourRow(_ record: CSVRecord, names: [String], restore: Bool, neutralised: Bool, note: AuditNote, in tx: some StoreReading) throws
        -> (customerID: Int64, counters: BehaviourCounters, updatedAt: String?) {
        guard record.fields.count == names.count else {
            throw RecordProblems(problems: [FieldProblem(field: "", reason: "has \(record.fields.count) fields, the header has \(names.count)")])
        }
        var values: [String: String] = [:]
        for (name, value) in zip(names, record.fields) { values[name] = (neutralised ? CSVFormula.restore(value) : value).trimmedWhitespace }
        var problems: [FieldProblem] = []
        var owner: Int64?
        if !restore { values["customer_id"] = nil; values["updated_at"] = nil }
        if let raw = values["customer_id"], !raw.isEmpty {
            if let id = Int64(raw), id > 0 { owner = id } else { problems.append(FieldProblem(field: "customer_id", reason: "is not a positive whole number")) }
        } else if let raw = values["customer_email"], !raw.isEmpty {
            if let email = Normalization.email(raw) {
                owner = try note.codec.customerID(forEmail: email, in: tx)
                if owner == nil { problems.append(FieldProblem(field: "customer_email", reason: "no customer has this e-mail address")) }
            } else {
                problems.append(FieldProblem(field: "customer_email", reason: "is not a valid e-mail address"))
            }
        } else {
            problems.append(FieldProblem(field: names.contains("customer_id") ? "customer_id" : "customer_email", reason: "is required"))
        }
        if let id = owner, try visibleAttributes(id, note: note, in: tx) == nil {
            problems.append(FieldProblem(field: values["customer_id"]?.isEmpty == false ? "customer_id" : "customer_email", reason: "no customer has this id"))
            owner = nil
        }
        var counts: [Int] = []
        for name in ["browse", "purchase", "review"] {
            let raw = values[name] ?? ""
            if raw.isEmpty { counts.append(0); continue }
            guard let count = Int(raw), (0...BehaviourCounters.maximum).contains(count) else {
                problems.append(FieldProblem(field: name, reason: "must be a whole number from 0 to \(BehaviourCounters.maximum)"))
                continue
            }
            counts.append(count)
        }
        var updatedAt: String?
        if let raw = values["updated_at"], !raw.isEmpty {
            updatedAt = Timestamps.parseInstant(raw)
            if updatedAt == nil { problems.append(FieldProblem(field: "updated_at", reason: "is not a time with a zone (as an export writes it: 2024-05-01T12:00:00Z)")) }
        }
        guard problems.isEmpty, let owner, counts.count == 3 else { throw RecordProblems(problems: problems) }
        return (owner, BehaviourCounters(browse: counts[0], purchase: counts[1], review: counts[2]), updatedAt)
    }
}
