import VaultCore
/// The columns of an import file, checked against the schema, and how a record maps onto them.
///
/// Pure (no vault, no I/O), so the fuzz target `csv` runs exactly the code an import runs.
struct ImportColumns: Sendable {
    let entity: Entity
    /// Lower-cased header names, in file order.
    let names: [String]
    /// Whether the file is a cvault export whose ids, times and customer ids are restored.
    let restore: Bool
    /// Whether cells may carry a CSV export's formula apostrophe (not in JSON Lines).
    let neutralised: Bool

    /// Checks a header: known columns only, no duplicates, every required field present. Names
    /// match regardless of case, surrounding spaces, and spaces or hyphens for `_`
    /// (`Customer Email` is `customer_email`).
    ///
    /// - Throws: ``VaultError`` `.invalidInput` naming the file, the line and every wrong column.
    init(header: CSVRecord, entity: Entity, schema: Schema, file: String, restore: Bool = false, neutralised: Bool = true) throws {
        let columns = header.fields.map(Self.columnName)
        let references = entity == .customers ? [] : ["customer_email", "customer_id"]
        let known = references + schema.fields(of: entity).map(\.name) + Self.recordColumns(entity)
        var problems: [String] = []
        if columns.count == 1, let separator = Self.likelySeparator(header.fields[0]) {
            throw VaultError.invalidInput("\(file) line \(header.line): this file is separated by '\(separator)', not by commas", remedy: .useDelimiter(separator))
        }
        for (index, column) in columns.enumerated() {
            if !known.contains(column) {
                problems.append("unknown column '\(header.fields[index].trimmedWhitespace)'\(Suggestion.didYouMean(column, among: known))")
            } else if columns[..<index].contains(column) {
                problems.append("column '\(column)' appears twice")
            }
        }
        var required = schema.fields(of: entity).filter { $0.required && $0.defaultValue == nil }.map(\.name)
        if entity != .customers && !(restore && columns.contains("customer_id")) {
            required.insert("customer_email", at: 0)
            if columns.contains("customer_id") && !columns.contains("customer_email") {
                problems.append("customer_id names this vault's customers only when restoring a cvault export; give customer_email")
            }
        }
        for column in required where !columns.contains(column) {
            if column == "customer_email" && columns.contains("customer_id") { continue }
            problems.append("missing required column '\(column)'")
        }
        guard problems.isEmpty else {
            throw VaultError.invalidInput("\(file) line \(header.line): \(problems.joined(separator: "; ")) (\(entity.rawValue) columns: \(known.joined(separator: ",")))",
                                          remedy: problems.contains { $0.hasPrefix("customer_id names") } ? .restoreExport : nil)
        }
        self.entity = entity
        self.names = columns
        self.restore = restore
        self.neutralised = neutralised
    }

    /// Columns an export adds to a record's schema fields: restored with `restore` (`id`,
    /// `created_at`, `updated_at`), else ignored; derived and always ignored (`age_band`); or
    /// saying a value was exported masked (such a row is refused).
    static func recordColumns(_ entity: Entity) -> [String] {
        entity == .customers ? ["id", "age_band", "created_at", "updated_at", "masked"] : ["id", "created_at"]
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
        for (column, value) in zip(names, record.fields) { values[column] = neutralised ? CSVFormula.restore(value) : value }
        var restored = RestoredFields()
        var problems: [FieldProblem] = []
        for column in Self.recordColumns(entity) {
            guard let raw = values.removeValue(forKey: column)?.trimmedWhitespace else { continue }
            switch column {
            case "id" where restore:
                guard let id = Int64(raw), id > 0 else {
                    problems.append(FieldProblem(field: "id", reason: raw.isEmpty ? "is empty: restoring an export, every row needs its id (or import the file as new records, not as a restore)"
                        : "is not a positive whole number"))
                    continue
                }
                restored.id = id
            case "created_at" where restore, "updated_at" where restore:
                guard !raw.isEmpty else { continue }
                guard let instant = Timestamps.parseInstant(raw) else {
                    problems.append(FieldProblem(field: column, reason: "is not a time with a zone (as an export writes it: 2024-05-01T12:00:00Z)"))
                    continue
                }
                if column == "created_at" { restored.createdAt = instant } else { restored.updatedAt = instant }
            case "masked" where !raw.isEmpty:
                problems.append(FieldProblem(field: "masked", reason: "the row holds masked values (exported by a role that sees \(raw) masked); "
                    + "export with a role that reads them in plain"))
            default: continue
            }
        }
        var customerEmail: String?
        if entity != .customers {
            let rawID = restore ? values.removeValue(forKey: "customer_id")?.trimmedWhitespace ?? "" : ""
            values.removeValue(forKey: "customer_id")
            let raw = values.removeValue(forKey: "customer_email") ?? ""
            if !rawID.isEmpty {
                if let id = Int64(rawID), id > 0 { restored.customerID = id } else {
                    problems.append(FieldProblem(field: "customer_id", reason: "is not a positive whole number"))
                }
            }
            if !raw.trimmedWhitespace.isEmpty {
                customerEmail = Normalization.email(raw)
                if customerEmail == nil { problems.append(FieldProblem(field: "customer_email", reason: "is not a valid e-mail address")) }
            } else if rawID.isEmpty {
                problems.append(FieldProblem(field: names.contains("customer_id") ? "customer_id" : "customer_email", reason: "is required"))
            }
        }
        return ImportRow(record: record.recordNumber, line: record.line, outcome: .valid(values, customerEmail: customerEmail), problems: problems,
                         restored: restored)
    }
}

/// What an export writes about a record beside its fields, given back to it on import: its id
/// (bound into its ciphertexts, so restorable only where the vault never issued it), its owner's
/// id, and its times (retention counts from `created_at`).
struct RestoredFields: Sendable, Equatable {
    var id: Int64?
    var customerID: Int64?
    var createdAt: String?
    var updatedAt: String?
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
    /// Problems found before the values are validated (the reference and record columns), reported with theirs.
    var problems: [FieldProblem] = []
    var restored = RestoredFields()
}
