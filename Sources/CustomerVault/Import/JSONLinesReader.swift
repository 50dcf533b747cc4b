import Foundation
import VaultCore

/// Where an import reads its records from: a CSV file, or a JSON Lines file read as one.
protocol ImportRecordSource: AnyObject {
    /// The next record (the header first), nil at the end of the input.
    func next() throws(CSVError) -> CSVRecord?
    /// Input bytes consumed so far (for progress).
    var bytesRead: Int { get }
    var maximumRecordBytes: Int { get }
    var maximumFields: Int { get }
    /// Whether cells may hold the apostrophe a cvault CSV export puts before formula triggers.
    var neutralisesFormulas: Bool { get }
}

extension CSVReader: ImportRecordSource {
    var neutralisesFormulas: Bool { true }
}

/// Reads a JSON Lines file (one flat JSON object a line, as an export in ``FileFormat/jsonl``
/// writes) as the records of a CSV file: the first object's keys are the header, each object a
/// record with its values in that order.
///
/// Values: strings as they are, numbers as their literal text (no digit lost to a binary
/// float), `true`/`false`, `null` as empty, an array of strings (an export's `masked`) joined by
/// commas. A key the first object lacks, a nested object, or a line that is not one object is an
/// error of that line; empty lines are skipped. Record numbers count the header as record 1, so
/// the object on line L is record L + 1 when no line is empty.
final class JSONLinesReader: ImportRecordSource {
    let maximumRecordBytes: Int
    let maximumFields: Int
    var neutralisesFormulas: Bool { false }

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var consumed = 0
    private var line = 0
    private var records = 0
    private var header: [String]?
    private var pending: CSVRecord?

    init(path: String, maximumRecordBytes: Int = CSVReader.defaultMaximumRecordBytes, maximumFields: Int = CSVReader.defaultMaximumFields) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw VaultError.io("cannot read \(path)") }
        self.handle = handle
        self.maximumRecordBytes = maximumRecordBytes
        self.maximumFields = maximumFields
    }

    deinit { try? handle.close() }

    var bytesRead: Int { consumed }

    func next() throws(CSVError) -> CSVRecord? {
        if let pending {
            self.pending = nil
            return pending
        }
        while let bytes = try nextLine() {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            records += 1
            let number = records + 1
            guard bytes.count <= maximumRecordBytes else { throw CSVError(kind: .recordTooLong, line: line, recordNumber: number) }
            guard let text = String(validating: bytes, as: UTF8.self) else { throw CSVError(kind: .invalidUTF8, line: line, recordNumber: number) }
            guard let object = FlatJSONObject.parse(text) else { throw CSVError(kind: .malformedJSON, line: line, recordNumber: number) }
            guard object.count <= maximumFields else { throw CSVError(kind: .tooManyFields, line: line, recordNumber: number) }
            guard let header else {
                let keys = object.map(\.key)
                header = keys
                // The first object is both the header (record 1) and the first record (record 2).
                pending = CSVRecord(fields: object.map(\.value), recordNumber: 2, line: line)
                return CSVRecord(fields: keys, recordNumber: 1, line: line)
            }
            var fields = Array(repeating: "", count: header.count)
            for (key, value) in object {
                guard let index = header.firstIndex(of: key) else { throw CSVError(kind: .unknownJSONKey, line: line, recordNumber: number) }
                fields[index] = value
            }
            return CSVRecord(fields: fields, recordNumber: number, line: line)
        }
        return nil
    }

    /// The next line's bytes without its line feed, nil at the end of the file.
    private func nextLine() throws(CSVError) -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                let bytes = buffer[start..<newline]
                consumed += newline + 1 - start
                start = newline + 1
                line += 1
                return bytes
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let bytes = buffer[start...]
                consumed += buffer.count - start
                start = buffer.count
                line += 1
                return bytes
            }
            if buffer.count - start > maximumRecordBytes + 1 {
                throw CSVError(kind: .recordTooLong, line: line + 1, recordNumber: records + 2)
            }
            buffer.removeFirst(start)
            start = 0
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 16) } catch { throw CSVError(kind: .ioFailure, line: line + 1, recordNumber: records + 2) }
            guard let chunk, !chunk.isEmpty else {
                atEnd = true
                continue
            }
            buffer.append(contentsOf: chunk)
        }
    }
}

/// A parser for one flat JSON object: string, number, boolean and null values and arrays of
/// strings, in the order the keys appear. Pure, so the fuzz target `jsonl` runs exactly it.
enum FlatJSONObject {
    /// The object's keys and values as text (see ``JSONLinesReader``); nil when `text` is not one
    /// flat object, or repeats a key.
    static func parse(_ text: String) -> [(key: String, value: String)]? {
        var scanner = Scanner(Array(text.utf8))
        guard scanner.take(0x7B) else { return nil }
        var pairs: [(key: String, value: String)] = []
        if !scanner.take(0x7D) {
            repeat {
                guard let key = scanner.string(), scanner.take(0x3A), let value = scanner.value() else { return nil }
                guard !pairs.contains(where: { $0.key == key }) else { return nil }
                pairs.append((key, value))
            } while scanner.take(0x2C)
            guard scanner.take(0x7D) else { return nil }
        }
        scanner.skipSpace()
        return scanner.atEnd ? pairs : nil
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0D, 0x0A].contains(bytes[index]) { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func literal(_ word: String) -> Bool {
            let expected = Array(word.utf8)
            guard bytes.count - index >= expected.count, Array(bytes[index..<(index + expected.count)]) == expected else { return false }
            index += expected.count
            return true
        }

        mutating func value() -> String? {
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case 0x22: return string()
            case 0x74: return literal("true") ? "true" : nil
            case 0x66: return literal("false") ? "false" : nil
            case 0x6E: return literal("null") ? "" : nil
            case 0x5B:
                index += 1
                var items: [String] = []
                if take(0x5D) { return "" }
                repeat {
                    guard let item = string() else { return nil }
                    items.append(item)
                } while take(0x2C)
                return take(0x5D) ? items.joined(separator: ",") : nil
            default: return number()
            }
        }

        /// A JSON number, as its literal text.
        mutating func number() -> String? {
            let begin = index
            if index < bytes.count, bytes[index] == 0x2D { index += 1 }
            let digitsStart = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            guard index > digitsStart, bytes[digitsStart] != 0x30 || index - digitsStart == 1 else { return nil }
            if index < bytes.count, bytes[index] == 0x2E {
                index += 1
                let fraction = index
                while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
                guard index > fraction else { return nil }
            }
            if index < bytes.count, bytes[index] == 0x65 || bytes[index] == 0x45 {
                index += 1
                if index < bytes.count, bytes[index] == 0x2B || bytes[index] == 0x2D { index += 1 }
                let exponent = index
                while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
                guard index > exponent else { return nil }
            }
            return String(decoding: bytes[begin..<index], as: UTF8.self)
        }

        mutating func string() -> String? {
            guard take(0x22) else { return nil }
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case 0x22: return String(decoding: out, as: UTF8.self)
                case 0x5C:
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case 0x22, 0x5C, 0x2F: out.append(escape)
                    case 0x62: out.append(0x08)
                    case 0x66: out.append(0x0C)
                    case 0x6E: out.append(0x0A)
                    case 0x72: out.append(0x0D)
                    case 0x74: out.append(0x09)
                    case 0x75:
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard literal("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        out.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default: return nil
                    }
                default:
                    guard byte >= 0x20 else { return nil }
                    out.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard bytes.count - index >= 4 else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(Unicode.Scalar(bytes[index])).hexDigitValue else { return nil }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }
    }
}
