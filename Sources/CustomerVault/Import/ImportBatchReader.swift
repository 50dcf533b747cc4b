import Foundation
import VaultCore

/// Reads, splits and validates an import file one batch at a time.
///
/// The import reads the next batch while the previous one commits, so the file's parsing and
/// the values' validation (pure work, no keys, no database) happen outside the batch's
/// transaction and the write lock is not held while values are checked (the speed gain alone
/// was within noise: Benchmarks/RESULTS.md 11 (d)). One task at a time uses it: the next read
/// starts only after the previous one was awaited, which is why it may be `@unchecked Sendable`
/// around its non-Sendable reader.
final class ImportBatchReader: @unchecked Sendable {
    /// One batch: its rows in file order, how far the file was read, and whether it ended.
    struct Batch: Sendable {
        var rows: [ImportRow]
        var bytesRead: Int
        var endOfFile: Bool
    }

    private let reader: any ImportRecordSource
    private let columns: ImportColumns
    private let validator: FieldValidator
    /// Records an earlier run of the same import committed; they are skipped.
    private let committedThrough: Int
    private let batchSize: Int

    init(reader: any ImportRecordSource, columns: ImportColumns, validator: FieldValidator, committedThrough: Int, batchSize: Int) {
        self.reader = reader
        self.columns = columns
        self.validator = validator
        self.committedThrough = committedThrough
        self.batchSize = batchSize
    }

    /// The next batch: up to `batchSize` rows, each valid (its values canonical) or refused with
    /// its field and reason. Stops at the end of the file, or at an error after which nothing can
    /// be read (an unterminated quote, an I/O failure).
    func next() -> Batch {
        var rows: [ImportRow] = []
        while rows.count < batchSize {
            do {
                guard let record = try reader.next() else { return Batch(rows: rows, bytesRead: reader.bytesRead, endOfFile: true) }
                if record.recordNumber <= committedThrough { continue }
                rows.append(validated(columns.row(record)))
            } catch {
                if error.recordNumber <= committedThrough && error.kind != .unterminatedQuote { continue }
                rows.append(ImportRow(record: error.recordNumber, line: error.line,
                                      outcome: .rejected([FieldProblem(field: "", reason: CustomerVault.describe(error, reader: reader))])))
                if error.kind == .unterminatedQuote || error.kind == .ioFailure {
                    return Batch(rows: rows, bytesRead: reader.bytesRead, endOfFile: true)
                }
            }
        }
        return Batch(rows: rows, bytesRead: reader.bytesRead, endOfFile: false)
    }

    private func validated(_ row: ImportRow) -> ImportRow {
        guard case .valid(let raw, let email) = row.outcome else { return row }
        var checked = row
        do {
            let values = try validator.validateRecord(raw, entity: columns.entity)
            checked.outcome = row.problems.isEmpty ? .valid(values, customerEmail: email) : .rejected(row.problems)
        } catch {
            checked.outcome = .rejected(row.problems + error.problems)
        }
        return checked
    }
}
