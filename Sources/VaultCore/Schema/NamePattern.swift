/// The name rules of schemas, policies and principals, checked byte by byte: a regular expression
/// (`String.range(of:options: .regularExpression)`) compiles an ICU pattern on every call, which
/// was a tenth of a CLI lookup's CPU (every open checks every name of the signed schema and policy).
/// Unlike ICU's `$`, a trailing line break does not match.
package enum NamePattern {
    /// `^[a-z][a-z0-9_]{0,maxLength-1}$`, and with `hyphen` also `-` after the first character.
    package static func lowerIdentifier(_ name: String, maxLength: Int, hyphen: Bool = false) -> Bool {
        var count = 0
        for byte in name.utf8 {
            count += 1
            guard count <= maxLength else { return false }
            let lower = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            if count == 1 { guard lower else { return false }; continue }
            let digit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            guard lower || digit || byte == UInt8(ascii: "_") || (hyphen && byte == UInt8(ascii: "-")) else { return false }
        }
        return count > 0
    }

    /// `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`: a principal's name.
    package static func principalName(_ name: String) -> Bool {
        var count = 0
        for byte in name.utf8 {
            count += 1
            guard count <= 64 else { return false }
            let alphanumeric = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            guard alphanumeric || (count > 1 && (byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-"))) else { return false }
        }
        return count > 0
    }

    /// `^-?[0-9]{1,15}(\.[0-9]{1,6})?$`: a decimal amount.
    package static func decimal(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        func digits(_ max: Int) -> Bool {
            let run = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            bytes = bytes.dropFirst(run)
            return run >= 1 && run <= max
        }
        guard digits(15) else { return false }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits(6) else { return false }
        }
        return bytes.isEmpty
    }
}
