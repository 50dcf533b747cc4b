import VaultCore
/// The plain columns of refused rows, read again from the import file, so that a rejects file
/// lets its reader find each row in the system it came from (`order_id`, `order_time`, `region`).
///
/// Only columns the schema classes as plain attributes, and a record's own `id`, `created_at` and
/// `updated_at`, are read out: never a personal column, never a link such as `customer_email`,
/// never a column the schema does not know (it could hold anything). The file is the user's own
/// input, read with the import's options; nothing comes from the vault.
public enum RejectContext {
    /// The plain columns of `entity` in `file`'s header order, and their values in each record of
    /// `records` (CSV record numbers, the header being 1), in the same order.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` when the header cannot be read as the import read it.
    public static func plainColumns(of records: Set<Int>, file: String, entity: Entity, schema: Schema,
                                    options: ImportOptions = ImportOptions()) throws -> (columns: [String], values: [Int: [String]]) {
        let reader = try options.reader(file)
        let header = try CustomerVault.headerRecord(reader, file: file)
        let own = ["id", "created_at", "updated_at"]
        let plain = Set(schema.fields(of: entity).filter { !$0.isPersonal }.map(\.name) + own)
        let picked = header.fields.enumerated().map { ($0.offset, ImportColumns.columnName($0.element)) }.filter { plain.contains($0.1) }
        var values: [Int: [String]] = [:]
        guard !records.isEmpty, let last = records.max() else { return (picked.map(\.1), values) }
        reading: while true {
            do {
                guard let record = try reader.next(), record.recordNumber <= last else { break reading }
                // A row whose field count differs from the header's has its cells shifted: a
                // "region" cell may hold an e-mail. Its columns are left empty.
                guard records.contains(record.recordNumber), record.fields.count == header.fields.count else { continue }
                values[record.recordNumber] = picked.map { index, _ in
                    let cell = record.fields[index].trimmedWhitespace
                    return reader.neutralisesFormulas ? CSVFormula.restore(cell) : cell
                }
            } catch {
                // One unreadable record (too long, bad JSON) is skipped, as the import skipped it;
                // only a file that cannot be read on stops.
                if error.kind == .unterminatedQuote || error.kind == .ioFailure { break reading }
            }
        }
        return (picked.map(\.1), values)
    }
}
