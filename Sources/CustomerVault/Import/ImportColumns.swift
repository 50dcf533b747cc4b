/// The columns of an import file, checked against the schema, and how a record maps onto them.
///
/// Pure (no vault, no I/O), so the fuzz target `csv` runs exactly the code an import runs.
struct ImportColumns: Sendable {
    let entity: Entity
    /// Lower-cased header names, in file order.
    let names: [String]

    /// Checks a header: known columns only, no duplicates, every required field present.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` naming the file, the line and the column.
    init(header: CSVRecord, entity: Entity, schema: Schema, file: String) throws {
        let columns = header.fields.map { $0.trimmedWhitespace.lowercased() }
        let reference = entity == .customers ? [] : ["customer_email"]
        // Columns that `exportCustomers` adds; accepted and ignored so an export imports again.
        let exportOnly = entity == .customers ? CustomerVault.exportOnlyColumns : []
        let known = reference + schema.fields(of: entity).map(\.name) + exportOnly
        for (index, column) in columns.enumerated() {
            guard known.contains(column) else {
                throw VaultError.invalidInput("\(file) line \(header.line): unknown column '\(column)' (expected: \(known.joined(separator: ",")))")
            }
            guard !columns[..<index].contains(column) else {
                throw VaultError.invalidInput("\(file) line \(header.line): column '\(column)' appears twice")
            }
        }
        let required = reference + schema.fields(of: entity).filter(\.required).map(\.name)
        for column in required where !columns.contains(column) {
            throw VaultError.invalidInput("\(file) line \(header.line): missing required column '\(column)'")
        }
        self.entity = entity
        self.names = columns
    }

    /// Splits a record into named values, or the reason it is refused. Field values are checked
    /// next (``ImportBatchReader``), while the previous batch commits.
    func row(_ record: CSVRecord) -> ImportRow {
        guard record.fields.count == names.count else {
            return ImportRow(record: record.recordNumber, line: record.line,
                             outcome: .rejected(field: "", reason: "has \(record.fields.count) fields, the header has \(names.count)"))
        }
        var values: [String: String] = [:]
        // Cells a cvault export neutralised for spreadsheets read back as they were (CSVFormula).
        for (column, value) in zip(names, record.fields) where !CustomerVault.exportOnlyColumns.contains(column) { values[column] = CSVFormula.restore(value) }
        var customerEmail: String?
        if entity != .customers {
            guard let email = Normalization.email(values.removeValue(forKey: "customer_email") ?? "") else {
                return ImportRow(record: record.recordNumber, line: record.line,
                                 outcome: .rejected(field: "customer_email", reason: "is not a valid e-mail address"))
            }
            customerEmail = email
        }
        return ImportRow(record: record.recordNumber, line: record.line, outcome: .valid(values, customerEmail: customerEmail))
    }
}

/// A parsed CSV row on its way into a batch.
struct ImportRow: Sendable {
    enum Outcome: Sendable {
        case valid([String: String], customerEmail: String?)
        case rejected(field: String, reason: String)
    }

    var record: Int
    var line: Int
    var outcome: Outcome
}
