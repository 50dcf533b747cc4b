import VaultCore
/// One refused CSV row: where it is and every reason, never its content.
public struct ImportReject: Sendable, Equatable, Codable {
    /// CSV record number; the header is record 1.
    public var record: Int
    /// Physical line where the record starts.
    public var line: Int
    /// Every problem of the row, in schema order; `field` is empty for a problem of the whole row.
    public var problems: [FieldProblem]

    public init(record: Int, line: Int, problems: [FieldProblem]) {
        self.record = record
        self.line = line
        self.problems = problems
    }

    /// The fields, comma-separated, as `import_rejects.field` stores them.
    var storedField: String { problems.map(\.field).joined(separator: ",") }
    /// The reasons, one a line, as `import_rejects.reason` stores them (a reason has no line break).
    var storedReason: String { problems.map { $0.reason.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n") }

    /// A reject as `import_rejects` stores it; nil when its two columns do not pair up.
    init?(record: Int, line: Int, storedField: String, storedReason: String) {
        let fields = storedField.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let reasons = storedReason.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == reasons.count else { return nil }
        self.init(record: record, line: line, problems: zip(fields, reasons).map { FieldProblem(field: $0, reason: $1) })
    }
}

/// Progress of a running import, reported after each committed batch.
public struct ImportProgress: Sendable {
    public var bytesRead: Int
    public var totalBytes: Int
    public var accepted: Int
    public var rejected: Int
}

/// The outcome of an import.
public struct ImportReport: Sendable, Codable {
    public var kind: RecordKind
    /// Rows stored as new records.
    public var accepted: Int
    public var rejected: Int
    /// Rows whose natural key (a customer's e-mail, a transaction's `order_id`) matched a record
    /// stored before, left as it was: nothing is stored or counted twice.
    public var alreadyStored: Int
    /// Rows whose natural key matched a stored record that was then changed to the row's values
    /// (``ImportMode/upsert``).
    public var updated: Int = 0
    /// The time zone times without a zone were read in.
    public var timeZone: String
    /// The record after which this run resumed an interrupted import of the same file, if any.
    public var resumedAfterRecord: Int?
    /// True when the same file had already been imported completely; nothing was done.
    public var alreadyImported: Bool
    /// When that earlier import finished (with `alreadyImported`).
    public var finishedAt: String?
    /// Refused rows of the whole import (all runs), in record order.
    public var rejects: [ImportReject]

    enum CodingKeys: String, CodingKey {
        case kind, accepted, rejected, alreadyStored, updated, timeZone, resumedAfterRecord, alreadyImported, finishedAt, rejects
    }

    /// Every key always present, absent values as `null` (the CLI's JSON contract).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(accepted, forKey: .accepted)
        try container.encode(rejected, forKey: .rejected)
        try container.encode(alreadyStored, forKey: .alreadyStored)
        try container.encode(updated, forKey: .updated)
        try container.encode(timeZone, forKey: .timeZone)
        try container.encode(resumedAfterRecord, forKey: .resumedAfterRecord)
        try container.encode(alreadyImported, forKey: .alreadyImported)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(rejects, forKey: .rejects)
    }
}
