public import Foundation
import GRDB

/// Output formats of `exportCustomers`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case csv, jsonl
}

extension CustomerVault {
    /// Streams every customer the principal may read to `output`, one page per audited transaction.
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
        let fields = personalFieldNames(schema.fields(of: .customers).map(\.name), entity: .customers)
        var after: Int64 = 0
        var count = 0
        while true {
            let start = after
            let page = try await perform(AccessRequest(.exportData, fields: fields)) { [codec] db, note in
                let ids = try Int64.fetchAll(db, sql: "SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?", arguments: [start, pageSize])
                note.target = try AuditTrail.bulkTarget(entity: .customers, ids: ids)
                return try ids.compactMap { try Self.loadCustomer($0, codec: codec, db: db) }
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
