/// The columns of one kind of export and how a record's values are written in them.
package struct ExportColumns: Sendable {
    package enum ValueKind: Sendable { case text, number, boolean }

    package let names: [String]
    package let kinds: [ValueKind]
    package let format: FileFormat
    /// Whether a JSON Lines line ends with the `masked` list (customers).
    package let listsMasked: Bool

    package init(_ kind: RecordKind, schema: Schema, format: FileFormat) {
        func kindOf(_ field: FieldSchema) -> ValueKind {
            switch field.type {
            case .integer, .decimal: .number
            case .boolean: .boolean
            default: .text
            }
        }
        var columns: [(String, ValueKind)]
        switch kind {
        case .customers:
            columns = [("id", .number)] + schema.fields(of: .customers).map { ($0.name, kindOf($0)) }
                + [("age_band", .text), ("created_at", .text), ("updated_at", .text)]
        case .transactions, .interactions:
            let entity: Entity = kind == .transactions ? .transactions : .interactions
            columns = [("id", .number), ("customer_id", .number)] + schema.fields(of: entity).map { ($0.name, kindOf($0)) } + [("created_at", .text)]
        case .behaviour:
            columns = [("customer_id", .number), ("browse", .number), ("purchase", .number), ("review", .number), ("updated_at", .text)]
        }
        names = columns.map(\.0)
        kinds = columns.map(\.1)
        self.format = format
        listsMasked = kind == .customers
    }

    /// The CSV header line (JSON Lines has none).
    package var header: String { CSVWriter.line(names) }

    /// One record as a line: absent values empty (CSV) or null (JSON Lines).
    package func line(_ values: [String: String], masked: [String] = []) -> String {
        switch format {
        case .csv:
            return CSVWriter.line(names.map { values[$0] ?? "" })
        case .jsonl:
            var out = "{"
            for (index, name) in names.enumerated() {
                if index > 0 { out += "," }
                FlatJSON.append(name, to: &out)
                out += ":"
                guard let value = values[name], !value.isEmpty else {
                    out += "null"
                    continue
                }
                switch kinds[index] {
                case .number: out += Self.jsonNumber(value) ?? Self.quoted(value)
                case .boolean: out += value == "true" || value == "false" ? value : Self.quoted(value)
                case .text: FlatJSON.append(value, to: &out)
                }
            }
            if listsMasked {
                out += ",\"masked\":[" + masked.map(Self.quoted).joined(separator: ",") + "]"
            }
            return out + "}\n"
        }
    }

    private static func quoted(_ text: String) -> String {
        var out = ""
        FlatJSON.append(text, to: &out)
        return out
    }

    /// A stored integer or decimal (`-?digits[.digits]`) as a JSON number literal, its digits
    /// kept (no binary float in between); leading zeros, which JSON forbids, dropped.
    package static func jsonNumber(_ text: String) -> String? {
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        var whole = parts[0].drop { $0 == "0" }
        if whole.isEmpty { whole = "0" }
        return (negative ? "-" : "") + whole + (parts.count == 2 ? "." + parts[1] : "")
    }
}
