/// One record of a CSV file: its fields, decoded and unquoted.
public struct CSVRecord: Sendable {
    /// The fields, in order. Quoted fields are returned without their quotes, `""` as `"`.
    public let fields: [String]
    /// The 1-based number of the record. The header, if any, is record 1; skipped empty lines do not count.
    public let recordNumber: Int
    /// The 1-based physical line where the record starts.
    public let line: Int

    public init(fields: [String], recordNumber: Int, line: Int) {
        self.fields = fields
        self.recordNumber = recordNumber
        self.line = line
    }
}
