/// One refused CSV row: where it is and why, never its content.
public struct ImportReject: Sendable, Equatable, Codable {
    /// CSV record number; the header is record 1.
    public var record: Int
    /// Physical line where the record starts.
    public var line: Int
    public var field: String
    public var reason: String
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
    public var kind: Entity
    public var accepted: Int
    public var rejected: Int
    /// The record after which this run resumed an interrupted import of the same file, if any.
    public var resumedAfterRecord: Int?
    /// True when the same file had already been imported completely; nothing was done.
    public var alreadyImported: Bool
    /// Refused rows of the whole import (all runs), in record order.
    public var rejects: [ImportReject]
}
