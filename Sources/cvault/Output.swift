import CustomerVault
import Foundation

/// Printing: results to stdout (text or JSON), errors and progress to stderr.
enum Output {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("cvault: error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// A customer as aligned `field: value` lines in schema order.
    static func customer(_ record: CustomerRecord, schema: Schema) {
        var lines = ["id: \(record.id)"]
        let names = schema.fields(of: .customers).map(\.name) + ["age_band"]
        let width = names.map(\.count).max() ?? 0
        for name in names {
            guard let value = record.fields[name] else { continue }
            let masked = record.masked.contains(name) ? "  (masked)" : ""
            lines.append(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value.replacingOccurrences(of: "\n", with: " ") + masked)
        }
        lines.append("created_at".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + record.createdAt)
        line(lines.joined(separator: "\n"))
    }
}
