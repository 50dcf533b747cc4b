public import Foundation
import GRDB

/// Output formats of `exportCustomers`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, jsonl
}

extension CustomerVault {
    /// Streams every customer the principal may read to `output`, in the views its policy grants,
    /// one page per audited transaction. Customers outside the role's row conditions are left out.
    ///
    /// Each page's access-log entry commits before that page is written out.
    ///
    /// - Parameters:
    ///   - format: CSV (`id`, the schema's field names, `age_band`, `created_at`, `updated_at`;
    ///     `importCSV` accepts it again and ignores the four non-schema columns) or JSON Lines.
    ///   - output: Receives UTF-8 text, page by page.
    /// - Returns: The number of customers exported.
    public func exportCustomers(format: ExportFormat, pageSize: Int = 1_000, progress: (@Sendable (Int) -> Void)? = nil,
                                output: (Data) throws -> Void) async throws -> Int {
        let columns = ["id"] + schema.fields(of: .customers).map(\.name) + ["age_band", "created_at", "updated_at"]
        if format == .csv { try output(Data(CSVWriter.line(columns).utf8)) }
        var after: Int64 = 0
        var count = 0
        while true {
            let start = after
            let page = try await perform(AccessRequest(.exportData)) { db, note in
                let records = try Self.visibleCustomers(after: start, limit: pageSize, note: note, db: db)
                note.target = AuditTrail.bulkTarget(entity: .customers, ids: records.map(\.id))
                return records
            }
            guard let last = page.last else { break }
            var text = ""
            for record in page {
                switch format {
                case .csv:
                    text += CSVWriter.line(columns.map { column in
                        switch column {
                        case "id": String(record.id)
                        case "created_at": record.createdAt
                        case "updated_at": record.updatedAt
                        default: record.fields[column] ?? ""
                        }
                    })
                case .jsonl:
                    let data = try JSONEncoder.sorted.encode(record)
                    text += String(decoding: data, as: UTF8.self) + "\n"
                }
            }
            try output(Data(text.utf8))
            count += page.count
            after = last.id
            progress?(count)
        }
        return count
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
