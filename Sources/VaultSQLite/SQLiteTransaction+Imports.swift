import Foundation
package import GRDB
package import VaultCore
package import VaultStore

extension StoredImport: FetchableRecord {
    package init(row: Row) throws {
        self.init(digest: [UInt8](try row.checked("file_digest") as Data), kind: try row.checked("kind"), recordsDone: try row.checked("records_done"),
                  accepted: try row.checked("accepted"), rejected: try row.checked("rejected"),
                  alreadyStored: try row.checked("already_stored"), updated: try row.checked("updated"),
                  startedAt: try row.checked("started_at"), updatedAt: try row.checked("updated_at"), finishedAt: try row.checked("finished_at"),
                  tag: (try row.checked("tag") as Data?).map { [UInt8]($0) })
    }
}

extension StoredImportReject: FetchableRecord {
    package init(row: Row) throws {
        self.init(digest: [UInt8](try row.checked("file_digest") as Data), record: try row.checked("record"), line: try row.checked("line"),
                  field: try row.checked("field"), reason: try row.checked("reason"), tag: (try row.checked("tag") as Data?).map { [UInt8]($0) })
    }
}

extension SQLiteTransaction: ImportReading, ImportWriting {
    package func importEntry(digest: [UInt8]) throws -> StoredImport? {
        try StoredImport.fetchOne(db, sql: "SELECT * FROM imports WHERE file_digest = ?", arguments: [Data(digest)])
    }

    package func importEntries() throws -> [StoredImport] {
        try StoredImport.fetchAll(db, sql: "SELECT * FROM imports")
    }

    package func importRejects(digest: [UInt8]) throws -> [StoredImportReject] {
        try StoredImportReject.fetchAll(db, sql: "SELECT * FROM import_rejects WHERE file_digest = ? ORDER BY record", arguments: [Data(digest)])
    }

    package func forEachImportReject(_ body: (StoredImportReject) throws -> Void) throws {
        let rejects = try StoredImportReject.fetchCursor(db, sql: "SELECT * FROM import_rejects")
        while let reject = try rejects.next() { try body(reject) }
    }

    package func writeImport(_ entry: StoredImport) throws {
        try db.execute(sql: """
            INSERT INTO imports (file_digest, kind, records_done, accepted, rejected, already_stored, updated, started_at, updated_at, finished_at, tag)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (file_digest) DO UPDATE SET kind = excluded.kind, records_done = excluded.records_done, accepted = excluded.accepted,
                rejected = excluded.rejected, already_stored = excluded.already_stored, updated = excluded.updated, started_at = excluded.started_at,
                updated_at = excluded.updated_at, finished_at = excluded.finished_at, tag = excluded.tag
            """, arguments: [Data(entry.digest), entry.kind, entry.recordsDone, entry.accepted, entry.rejected, entry.alreadyStored, entry.updated,
                             entry.startedAt, entry.updatedAt, entry.finishedAt, entry.tag.map { Data($0) }])
    }

    package func writeImportReject(_ reject: StoredImportReject) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO import_rejects (file_digest, record, line, field, reason, tag) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: [Data(reject.digest), reject.record, reject.line, reject.field, reject.reason, reject.tag.map { Data($0) }])
    }
}
