/// The columns of an import file, checked against the schema, and how a record maps onto them.
///
/// Pure (no vault, no I/O), so the fuzz target `csv` runs exactly the code an import runs.
struct ImportColumns: Sendable {
    let entity: Entity
    /// Lower-cased header names, in file order.
    let names: [String]

    /// Checks a header: known columns only, no duplicates, every required field present. Names
    /// match regardless of case, surrounding spaces, and spaces or hyphens for `_`
    /// (`Customer Email` is `customer_email`).
    ///
    /// - Throws: ``VaultError`` `.invalidInput` naming the file, the line and every wrong column.
    init(header: CSVRecord, entity: Entity, schema: Schema, file: String) throws {
        let columns = header.fields.map(Self.columnName)
        let reference = entity == .customers ? [] : ["customer_email"]
        // Columns that `exportCustomers` adds; accepted and ignored so an export imports again.
        let exportOnly = entity == .customers ? CustomerVault.exportOnlyColumns : []
        let known = reference + schema.fields(of: entity).map(\.name) + exportOnly
        var problems: [String] = []
        if columns.count == 1, let separator = Self.likelySeparator(header.fields[0]) {
            throw VaultError.invalidInput("\(file) line \(header.line): this file is separated by '\(separator)', not by commas; "
                + "import it with that delimiter (--delimiter '\(separator == "tab" ? "\\t" : separator)')")
        }
        for (index, column) in columns.enumerated() {
            if !known.contains(column) {
                problems.append("unknown column '\(header.fields[index].trimmedWhitespace)'\(Suggestion.didYouMean(column, among: known))")
            } else if columns[..<index].contains(column) {
                problems.append("column '\(column)' appears twice")
            }
        }
        let required = reference + schema.fields(of: entity).filter { $0.required && $0.defaultValue == nil }.map(\.name)
        for column in required where !columns.contains(column) {
            problems.append("missing required column '\(column)'")
        }
        guard problems.isEmpty else {
            throw VaultError.invalidInput("\(file) line \(header.line): \(problems.joined(separator: "; ")) (\(entity.rawValue) columns: \(known.joined(separator: ",")))")
        }
        self.entity = entity
        self.names = columns
    }

    /// A header cell as a column name: trimmed, lower-cased, spaces and hyphens read as `_`.
    static func columnName(_ cell: String) -> String {
        String(cell.trimmedWhitespace.lowercased().map { $0 == " " || $0 == "-" ? "_" : $0 })
    }

    /// The separator a one-column header seems to use instead of commas (`;`, a tab, `|`).
    static func likelySeparator(_ cell: String) -> String? {
        for (separator, name) in [(";", ";"), ("\t", "tab"), ("|", "|")] where cell.contains(separator) { return name }
        return nil
    }

    /// Splits a record into named values, or the reason it is refused. Field values are checked
    /// next (``ImportBatchReader``), while the previous batch commits.
    func row(_ record: CSVRecord) -> ImportRow {
        guard record.fields.count == names.count else {
            return ImportRow(record: record.recordNumber, line: record.line,
                             outcome: .rejected([FieldProblem(field: "", reason: "has \(record.fields.count) fields, the header has \(names.count)")]))
        }
        var values: [String: String] = [:]
        // Cells a cvault export neutralised for spreadsheets read back as they were (CSVFormula).
        for (column, value) in zip(names, record.fields) where !CustomerVault.exportOnlyColumns.contains(column) { values[column] = CSVFormula.restore(value) }
        var customerEmail: String?
        var problems: [FieldProblem] = []
        if entity != .customers {
            let raw = values.removeValue(forKey: "customer_email") ?? ""
            customerEmail = Normalization.email(raw)
            if customerEmail == nil {
                problems.append(FieldProblem(field: "customer_email", reason: raw.trimmedWhitespace.isEmpty ? "is required" : "is not a valid e-mail address"))
            }
        }
        return ImportRow(record: record.recordNumber, line: record.line, outcome: .valid(values, customerEmail: customerEmail), problems: problems)
    }
}

/// A parsed CSV row on its way into a batch.
struct ImportRow: Sendable {
    enum Outcome: Sendable {
        case valid([String: String], customerEmail: String?)
        case rejected([FieldProblem])
    }

    var record: Int
    var line: Int
    var outcome: Outcome
    /// Problems found before the values are validated (the reference column), reported with theirs.
    var problems: [FieldProblem] = []
}
