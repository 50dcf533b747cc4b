package import VaultCore

/// One file's import progress as stored, with the record key's tag over it.
package struct StoredImport: Sendable, Equatable {
    /// Identifies the file (and the options that change what it means).
    package var digest: [UInt8]
    package var kind: String
    package var recordsDone: Int
    package var accepted: Int
    package var rejected: Int
    package var alreadyStored: Int
    package var updated: Int
    package var startedAt: String
    package var updatedAt: String
    package var finishedAt: String?
    package var tag: [UInt8]?

    package init(digest: [UInt8], kind: String, recordsDone: Int, accepted: Int, rejected: Int, alreadyStored: Int, updated: Int,
                 startedAt: String, updatedAt: String, finishedAt: String?, tag: [UInt8]?) {
        self.digest = digest
        self.kind = kind
        self.recordsDone = recordsDone
        self.accepted = accepted
        self.rejected = rejected
        self.alreadyStored = alreadyStored
        self.updated = updated
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
        self.tag = tag
    }
}

/// One refused record of an import as stored: its problems' fields and reasons, each joined in
/// the stored form, with the record key's tag.
package struct StoredImportReject: Sendable, Equatable {
    package var digest: [UInt8]
    package var record: Int
    package var line: Int
    package var field: String
    package var reason: String
    package var tag: [UInt8]?

    package init(digest: [UInt8], record: Int, line: Int, field: String, reason: String, tag: [UInt8]?) {
        self.digest = digest
        self.record = record
        self.line = line
        self.field = field
        self.reason = reason
        self.tag = tag
    }
}

/// Reading imports' progress and refused records.
package protocol ImportReading {
    /// The progress of the file with `digest`; nil when it was never imported.
    func importEntry(digest: [UInt8]) throws -> StoredImport?
    /// Every file's progress, in no particular order.
    func importEntries() throws -> [StoredImport]
    /// The refused records of one file, in record order.
    func importRejects(digest: [UInt8]) throws -> [StoredImportReject]
    /// Every refused record of every file (a cursor).
    func forEachImportReject(_ body: (StoredImportReject) throws -> Void) throws
}

/// Writing imports' progress and refused records.
package protocol ImportWriting {
    /// Stores a file's progress, replacing what was stored for its digest.
    func writeImport(_ entry: StoredImport) throws
    /// Stores a refused record, replacing one of the same file and record number.
    func writeImportReject(_ reject: StoredImportReject) throws
}
