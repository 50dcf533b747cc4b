import Foundation

/// Canonical forms of searchable values, so that equal values give equal blind indexes.
///
/// - email: trimmed and lower-cased.
/// - phone: E.164 (`+` and 7 to 15 digits); national numbers take the schema's default country code.
/// - name: Unicode NFKC, case-folded, inner whitespace collapsed to one space, trimmed.
public enum Normalization {
    /// Returns the canonical e-mail address, or nil when it is not a plausible address.
    public static func email(_ raw: String) -> String? {
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, value.utf8.count <= 254 else { return nil }
        let local = parts[0], domain = parts[1]
        guard (1...64).contains(local.utf8.count), !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { return nil }
        guard !value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }),
              !value.contains(where: { "\"(),:;<>[\\]".contains($0) }) else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }) else { return nil }
        return value
    }

    /// Returns the phone number in E.164, or nil when it is not a phone number.
    public static func phone(_ raw: String, defaultCountryCode: String) -> String? {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        // "+44 (0)20 7946 0123": the bracketed trunk prefix is dropped in international form.
        text = text.replacingOccurrences(of: "(0)", with: "")
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
        let folded = raw.precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive], locale: nil)
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
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
