import Foundation

// Fast paths for the text handling every imported value goes through. Most CRM values are ASCII;
// Foundation's Unicode machinery is only needed for the rest.
extension Unicode.Scalar {
    package var isWhitespaceFast: Bool {
        value < 0x80 ? (value == 0x20 || (0x09...0x0D).contains(value)) : properties.isWhitespace
    }

    package var isControlFast: Bool { value < 0x20 || (0x7F...0x9F).contains(value) }
}

extension String {
    package var isASCIIOnly: Bool { utf8.allSatisfy { $0 < 0x80 } }

    /// `caseInsensitiveCompare(other) == .orderedSame`, without Foundation when both are ASCII.
    package func equalsIgnoringCase(_ other: String) -> Bool {
        guard isASCIIOnly, other.isASCIIOnly else { return caseInsensitiveCompare(other) == .orderedSame }
        func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
        return utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { lower($0) == lower($1) }
    }

    /// The string without leading and trailing Unicode whitespace.
    package var trimmedWhitespace: String {
        let scalars = unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end, scalars[start].isWhitespaceFast { scalars.formIndex(after: &start) }
        while end > start, scalars[scalars.index(before: end)].isWhitespaceFast { scalars.formIndex(before: &end) }
        if start == scalars.startIndex && end == scalars.endIndex { return self }
        return String(scalars[start..<end])
    }

    /// Unicode NFC (ASCII is already NFC).
    package var canonicallyComposed: String { isASCIIOnly ? self : precomposedStringWithCanonicalMapping }

    /// Whether this is ASCII text that ``collapsingWhitespace`` leaves as it is: no whitespace
    /// but single spaces between words (most values; checked on bytes, not scalars).
    private var isCollapsedASCII: Bool {
        var previous: UInt8 = 0x20  // a leading space counts as a run
        for byte in utf8 {
            if byte >= 0x80 || (0x09...0x0D).contains(byte) || (byte == 0x20 && previous == 0x20) { return false }
            previous = byte
        }
        return previous != 0x20
    }

    /// Runs of whitespace folded into one space; leading and trailing whitespace removed.
    package var collapsingWhitespace: String {
        if isCollapsedASCII { return self }
        var result = String.UnicodeScalarView()
        var pendingSpace = false
        var changed = false
        for scalar in unicodeScalars {
            if scalar.isWhitespaceFast {
                if pendingSpace || scalar != " " || result.isEmpty { changed = true }
                pendingSpace = true
            } else {
                if pendingSpace && !result.isEmpty { result.append(" ") }
                pendingSpace = false
                result.append(scalar)
            }
        }
        if pendingSpace { changed = true }
        return changed ? String(result) : self
    }
}

extension String {
    /// The text with its line breaks kept (CR LF and lone CR read as LF). With `collapsingSpaces`,
    /// each line's runs of whitespace become one space, lines are trimmed and empty lines dropped.
    package func keepingLines(collapsingSpaces: Bool) -> String {
        let hasCR = utf8.contains(0x0D)
        if !hasCR && (!collapsingSpaces || !utf8.contains(0x0A)) { return collapsingSpaces ? collapsingWhitespace : self }
        let unified = hasCR ? replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n") : self
        guard collapsingSpaces else { return unified }
        return unified.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0).collapsingWhitespace }
            .filter { !$0.isEmpty }
            .joined(separator: "\n")
    }
}

/// A minimal JSON object writer for flat string maps (sorted keys), used for plain attributes
/// on every stored row, where JSONSerialization's generality costs more than the rest of the row.
package enum FlatJSON {
    /// The flat object `json` holds (every value a string); nil when it is anything else.
    package static func decode(_ json: String) -> [String: String]? {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: String]
    }

    package static func encode(_ object: [String: String]) -> String {
        var out = "{"
        out.reserveCapacity(object.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        for (index, key) in object.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            append(key, to: &out)
            out += ":"
            append(object[key] ?? "", to: &out)
        }
        return out + "}"
    }

    package static func append(_ text: String, to out: inout String) {
        out += "\""
        // Most values need no escape: appended whole, not scalar by scalar (bytes of 0x80 and up
        // belong to scalars written as they are).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
