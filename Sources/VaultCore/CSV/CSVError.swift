/// An error found while reading a CSV file.
///
/// The description names the physical line and the problem, never the contents of a field:
/// CSV files handled by the vault hold personal data.
///
/// ```swift
/// do {
///     while let record = try reader.next() { ... }
/// } catch let error as CSVError where error.kind == .invalidUTF8 {
///     print(error)   // "line 12: invalid UTF-8 in field"
/// }
/// ```
public struct CSVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable {
        /// The input ended inside a quoted field. Reading ends.
        case unterminatedQuote
        /// A closing quote was followed by something other than a comma, a line end or the end of input.
        case unexpectedCharacterAfterQuote
        /// A field's bytes are not valid UTF-8.
        case invalidUTF8
        /// A record is longer than the reader's `maximumRecordBytes`.
        case recordTooLong
        /// A record has more fields than the reader's `maximumFields`.
        case tooManyFields
        /// The file could not be read.
        case ioFailure
        /// A quote character appeared inside a field that did not start with a quote.
        case quoteInUnquotedField
        /// A JSON Lines line is not one flat JSON object (``JSONLinesReader``).
        case malformedJSON
        /// A JSON Lines object has a key the first object (the header) does not have.
        case unknownJSONKey
    }

    /// What went wrong.
    public let kind: Kind
    /// The 1-based physical line of the problem. For ``Kind/unterminatedQuote`` and
    /// ``Kind/recordTooLong``, the line where the record starts.
    public let line: Int
    /// The 1-based number of the record (the header is record 1).
    public let recordNumber: Int

    public init(kind: Kind, line: Int, recordNumber: Int) {
        self.kind = kind
        self.line = line
        self.recordNumber = recordNumber
    }

    public var description: String {
        "line \(line): \(message)"
    }

    private var message: String {
        switch kind {
        case .unterminatedQuote: "unterminated quoted field"
        case .unexpectedCharacterAfterQuote: "unexpected character after closing quote"
        case .invalidUTF8: "invalid UTF-8 in field"
        case .recordTooLong: "record too long"
        case .tooManyFields: "too many fields"
        case .ioFailure: "read error"
        case .quoteInUnquotedField: "quote inside unquoted field"
        case .malformedJSON: "not one flat JSON object (strings, numbers, booleans, null and arrays of strings as values)"
        case .unknownJSONKey: "a key that the first line does not have (every line must use the first line's keys)"
        }
    }
}
