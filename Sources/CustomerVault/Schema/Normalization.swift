import Foundation

/// Canonical forms of searchable values, so that equal values give equal blind indexes.
///
/// - email: trimmed and lower-cased.
/// - phone: E.164 (`+` and 7 to 15 digits); national numbers take the schema's default country code.
/// - name: Unicode NFKC, case-folded, inner whitespace collapsed to one space, trimmed.
public enum Normalization {
    /// Returns the canonical e-mail address, or nil when it is not a plausible address.
    public static func email(_ raw: String) -> String? {
        let value = raw.trimmedWhitespace.lowercased()
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, value.utf8.count <= 254 else { return nil }
        let local = parts[0].utf8, domain = parts[1].utf8
        let dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
        guard (1...64).contains(local.count), local.first != dot, local.last != dot,
              !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot }) else { return nil }
        let forbidden = Set("\"(),:;<>[\\]".utf8)
        guard !value.unicodeScalars.contains(where: { $0.isWhitespaceFast || $0.isControlFast }),
              !value.utf8.contains(where: { forbidden.contains($0) }) else { return nil }
        let labels = domain.split(separator: dot, omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ label in
            !label.isEmpty && label.count <= 63 && label.first != hyphen && label.last != hyphen
                && Self.isDomainLabel(label)
        }) else { return nil }
        return value
    }

    /// Letters (any script, for internationalised domains), digits and hyphens.
    private static func isDomainLabel(_ label: Substring.UTF8View.SubSequence) -> Bool {
        if label.allSatisfy({ $0 < 0x80 }) {
            return label.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") || (0x41...0x5A).contains($0) }
        }
        return String(decoding: label, as: UTF8.self).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
    }

    /// Returns the phone number in E.164, or nil when it is not a phone number.
    public static func phone(_ raw: String, defaultCountryCode: String) -> String? {
        var text = raw.trimmedWhitespace
        // "+44 (0)20 7946 0123": the bracketed trunk prefix is dropped in international form.
        if text.contains("(0)") { text = text.replacingOccurrences(of: "(0)", with: "") }
        var digits = ""
        var international = false
        for (index, character) in text.enumerated() {
            if character == "+" && index == 0 {
                international = true
            } else if character.isASCII && character.isNumber {
                digits.append(character)
            } else if !" -.()/".contains(character) {
                return nil
            }
        }
        if !international && digits.hasPrefix("00") {
            international = true
            digits.removeFirst(2)
        } else if !international {
            if digits.hasPrefix("0") { digits.removeFirst() }
            digits = defaultCountryCode + digits
        }
        guard (7...15).contains(digits.count), digits.first != "0" else { return nil }
        return "+" + digits
    }

    /// Returns the search form of a person's name.
    public static func name(_ raw: String) -> String {
        // ASCII needs neither NFKC nor full case folding: lower-casing is the same thing there.
        let folded = raw.isASCIIOnly
            ? raw.lowercased()
            : raw.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
        return folded.collapsingWhitespace
    }

    /// Applies the normalisation a searchable field declares.
    static func searchForm(_ value: String, as normalization: FieldSchema.Normalization, defaultCountryCode: String) -> String? {
        switch normalization {
        case .email: email(value)
        case .phone: phone(value, defaultCountryCode: defaultCountryCode)
        case .name: name(value)
        case .exact: value
        }
    }
}
