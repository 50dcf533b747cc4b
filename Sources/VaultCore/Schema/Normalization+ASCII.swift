/// ``Normalization/email(_:)`` and ``Normalization/readPhone(_:country:)`` on the bytes of ASCII
/// text, which is nearly every value a CRM exports: the same answers without building strings
/// scalar by scalar or iterating grapheme clusters (a tenth of an import's validation time).
/// `NormalizationTests` holds each to its definition on thousands of generated strings.
extension Normalization {
    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    /// The bytes of `raw` without leading and trailing ASCII whitespace.
    private static func trimmed(_ raw: String) -> ArraySlice<UInt8> {
        let bytes = Array(raw.utf8)
        var start = 0, end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    package static func asciiEmail(_ raw: String) -> String? {
        var value = Array(trimmed(raw))
        for index in value.indices where (0x41...0x5A).contains(value[index]) { value[index] |= 0x20 }
        let at = UInt8(ascii: "@"), dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
        guard value.count <= 254, let split = value.firstIndex(of: at), value[(split + 1)...].firstIndex(of: at) == nil else { return nil }
        let local = value[..<split], domain = value[(split + 1)...]
        guard (1...64).contains(local.count), local.first != dot, local.last != dot,
              !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot }) else { return nil }
        let forbidden = forbiddenInEmail
        guard !value.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0x20 || forbidden.contains($0) }) else { return nil }
        let labels = domain.split(separator: dot, omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ label in
            !label.isEmpty && label.count <= 63 && label.first != hyphen && label.last != hyphen
                && label.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == hyphen }
        }) else { return nil }
        return String(decoding: value, as: UTF8.self)
    }

    package static func asciiReadPhone(_ raw: String, country: Country?) -> PhoneReading {
        let text = trimmed(raw)
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var international = false
        // "+44 (0)20 7946 0123": each bracketed trunk prefix is dropped (one left-to-right pass, as
        // `replacingOccurrences` does), so positions count only the bytes kept.
        let open = UInt8(ascii: "("), zero = UInt8(ascii: "0"), close = UInt8(ascii: ")")
        var index = text.startIndex, position = 0
        while index < text.endIndex {
            let byte = text[index]
            if byte == open, index + 2 < text.endIndex, text[index + 1] == zero, text[index + 2] == close {
                index += 3
                continue
            }
            if byte == UInt8(ascii: "+") && position == 0 {
                international = true
            } else if (0x30...0x39).contains(byte) {
                digits.append(byte)
            } else if !" -.()/".utf8.contains(byte) {
                return .malformed
            }
            index += 1
            position += 1
        }
        if !international && digits.starts(with: [zero, zero]) {
            international = true
            digits.removeFirst(2)
        } else if !international {
            guard (4...15).contains(digits.count) else { return .malformed }
            guard let country, !country.callingCode.isEmpty else { return .needsCountry }
            let prefix = Array(country.nationalPrefix.utf8)
            if !prefix.isEmpty && digits.starts(with: prefix) { digits.removeFirst(prefix.count) }
            digits = Array(country.callingCode.utf8) + digits
        }
        guard (7...15).contains(digits.count), digits.first != zero else { return .malformed }
        return .number("+" + String(decoding: digits, as: UTF8.self))
    }
}
