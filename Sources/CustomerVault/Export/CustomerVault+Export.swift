public import Foundation
import VaultCore
import VaultStore

extension CustomerVault {
    /// Streams every customer the principal may read to `output` (see ``export(_:format:pageSize:progress:output:)``).
    func exportCustomers(format: FileFormat, pageSize: Int = 1_000, progress: (@Sendable (Int) -> Void)? = nil,
                                output: (Data) throws -> Void) async throws -> Int {
        try await export(.customers, format: format, pageSize: pageSize, progress: progress, output: output)
    }

    /// Streams every record of `kind` the principal may read to `output`, in the views its policy
    /// grants, one page per audited transaction (each page's access-log entry commits before the
    /// page is handed out). Records of customers outside the role's row conditions are left out.
    ///
    /// The columns (``ExportColumns``): customers `id`, the schema's fields, `age_band`,
    /// `created_at`, `updated_at` (JSON Lines adds `masked`); transactions and interactions `id`,
    /// `customer_id`, their schema fields, `created_at`; behaviour `customer_id`, `browse`,
    /// `purchase`, `review`, `updated_at`. An export imports again: into an empty vault it gives
    /// back the same ids and times, so exporting that vault gives the same files.
    ///
    /// - Parameters:
    ///   - format: CSV (cells a spreadsheet would run as formulas get a leading apostrophe, which
    ///     an import removes) or JSON Lines (one object a line; integers and decimals as numbers,
    ///     booleans as booleans, absent values as null).
    ///   - output: Receives UTF-8 text, page by page.
    /// - Returns: The number of records exported.
    /// - Throws: ``VaultError`` `.accessDenied` when the role may not export, or may not read `kind`.
    func export(_ kind: RecordKind, format: FileFormat, pageSize: Int = 1_000, progress: (@Sendable (Int) -> Void)? = nil,
                       output: (Data) throws -> Void) async throws -> Int {
        if let action = kind.readAction { _ = try await requireAllowed(AccessRequest(action)) }
        let columns = ExportColumns(kind, schema: schema, format: format)
        if format == .csv { try output(Data(columns.header.utf8)) }
        var after: Int64 = 0
        var count = 0
        while true {
            let start = after
            let page = try await perform(Self.exportRequest(kind)) { tx, note in
                let page = try Self.exportPage(kind, columns: columns, after: start, limit: pageSize, note: note, in: tx)
                note.target = page.target
                return page
            }
            guard let last = page.lastKey else { break }
            try output(Data(page.text.utf8))
            count += page.count
            after = last
            progress?(count)
        }
        return count
    }

    /// Writes every kind of record the principal may read into `directory` (created if missing),
    /// as `customers.csv`, `transactions.csv`, `interactions.csv` and `behaviour.csv` (or
    /// `.jsonl`), from one consistent snapshot: one audited transaction reads them all, and the
    /// files appear (each 0600, atomically) only after its access-log entry has committed.
    /// Writers wait while it runs.
    ///
    /// - Parameters:
    ///   - replace: Replace files of those names (atomically); without it an existing file is refused
    ///     before anything is read.
    /// - Returns: The number of records of each kind.
    /// - Throws: ``VaultError`` `.accessDenied` when the role may not export or read one of the kinds.
    func exportAll(format: FileFormat, to directory: String, replace: Bool = false,
                          progress: (@Sendable (RecordKind, Int) -> Void)? = nil) async throws -> [RecordKind: Int] {
        for kind in RecordKind.allCases { if let action = kind.readAction { _ = try await requireAllowed(AccessRequest(action)) } }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw VaultError.invalidInput("\(directory) is a file, not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw VaultError.io("cannot create the directory \(directory)")
            }
        }
        let files = try RecordKind.allCases.map { kind in
            (kind, try PrivateOutputFile(path: (directory as NSString).appendingPathComponent("\(kind.rawValue).\(format.fileExtension)"), replace: replace))
        }
        do {
            var request = AccessRequest(.exportData)
            request.readEntity = .customers
            let counts = try await perform(request) { [schema] tx, note in
                var counts: [RecordKind: Int] = [:]
                var targets: [String] = []
                for (kind, file) in files {
                    let columns = ExportColumns(kind, schema: schema, format: format)
                    if format == .csv { try file.write(Data(columns.header.utf8)) }
                    var after: Int64 = 0
                    var count = 0
                    while true {
                        let page = try Self.exportPage(kind, columns: columns, after: after, limit: 1_000, note: note, in: tx)
                        guard let last = page.lastKey else { break }
                        try file.write(Data(page.text.utf8))
                        count += page.count
                        after = last
                        progress?(kind, count)
                    }
                    counts[kind] = count
                    targets.append("\(kind.rawValue):\(count)")
                }
                note.target = "export:" + targets.joined(separator: ",")
                note.detail = "export all (\(format.rawValue)): one snapshot of every kind"
                return counts
            }
            for (_, file) in files { try file.commit() }
            return counts
        } catch {
            for (_, file) in files { file.discard() }
            throw error
        }
    }

    static func exportRequest(_ kind: RecordKind) -> AccessRequest {
        var request = AccessRequest(.exportData)
        request.readEntity = kind.entity
        return request
    }

    /// One page of an export after the record (or, for behaviour, customer) `after`.
    static func exportPage(_ kind: RecordKind, columns: ExportColumns, after: Int64, limit: Int, note: AuditNote, in tx: some StoreReading) throws -> ExportPage {
        var page = ExportPage()
        switch kind {
        case .customers:
            let records = try visibleCustomers(after: after, limit: limit, note: note, in: tx)
            for record in records {
                var values = record.fields
                values["id"] = String(record.id)
                values["created_at"] = record.createdAt
                values["updated_at"] = record.updatedAt
                page.text += columns.line(values, masked: record.masked)
            }
            page.lastKey = records.last?.id
            page.count = records.count
            page.target = AuditChain.bulkTarget(entity: .customers, ids: records.map(\.id))
        case .transactions, .interactions:
            let entity: Entity = kind == .transactions ? .transactions : .interactions
            var visible: [Int64: Bool] = [:]
            var ids: [Int64] = []
            for (id, owner) in try tx.historyOwners(entity, after: after, limit: limit) {
                page.lastKey = id
                if visible[owner] == nil { visible[owner] = try visibleAttributes(owner, note: note, in: tx) != nil }
                guard visible[owner] == true else { continue }
                guard let record = try loadHistoryRecord(entity, id: id, note: note, in: tx) else { continue }
                var values = record.fields
                values["id"] = String(record.id)
                values["customer_id"] = String(record.customerID)
                values["created_at"] = record.createdAt
                page.text += columns.line(values)
                ids.append(id)
            }
            page.count = ids.count
            page.target = AuditChain.bulkTarget(entity: entity, ids: ids)
        case .behaviour:
            let owners = try tx.behaviourOwners(after: after, limit: limit)
            var ids: [Int64] = []
            for owner in owners {
                page.lastKey = owner
                guard try visibleAttributes(owner, note: note, in: tx) != nil,
                      let (counters, updatedAt) = try loadBehaviourRow(owner, integrity: try note.codec.integrity, in: tx) else { continue }
                page.text += columns.line(["customer_id": String(owner), "browse": String(counters.browse), "purchase": String(counters.purchase),
                                           "review": String(counters.review), "updated_at": updatedAt])
                ids.append(owner)
            }
            page.count = ids.count
            page.target = AuditChain.bulkTarget(entity: .customers, ids: ids)
        }
        return page
    }
}

/// One page of an export: its text, how far it read, and what the access log names.
struct ExportPage: Sendable {
    var text = ""
    /// The last key read (also of records left out); nil when nothing was left to read.
    var lastKey: Int64?
    var count = 0
    var target = ""
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
