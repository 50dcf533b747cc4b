import Foundation

/// Canonical forms of searchable values, so that equal values give equal blind indexes.
///
/// - email: trimmed and lower-cased.
/// - phone: E.164 (`+` and 7 to 15 digits); national numbers take the record's or the schema's country.
/// - name: ``folded(_:)``: NFKC, zero-width characters removed, Turkish I and ß folded, case and
///   accents folded, whitespace collapsed (vaults made before issue #18 indexed
///   ``legacyName(_:)``; searches probe both until a rotation of the name field's keys rebuilt them).
public enum Normalization {
    /// Returns the canonical e-mail address, or nil when it is not a plausible address.
    public static func email(_ raw: String) -> String? {
        raw.isASCIIOnly ? asciiEmail(raw) : emailByScalars(raw)
    }

    /// ``email(_:)`` on scalars: the definition, for any text.
    package static func emailByScalars(_ raw: String) -> String? {
        let value = raw.trimmedWhitespace.lowercased()
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, value.utf8.count <= 254 else { return nil }
        let local = parts[0].utf8, domain = parts[1].utf8
        let dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
        guard (1...64).contains(local.count), local.first != dot, local.last != dot,
              !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot }) else { return nil }
        let forbidden = Self.forbiddenInEmail
        guard !value.unicodeScalars.contains(where: { $0.isWhitespaceFast || $0.isControlFast }),
              !value.utf8.contains(where: { forbidden.contains($0) }) else { return nil }
        let labels = domain.split(separator: dot, omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ label in
            !label.isEmpty && label.count <= 63 && label.first != hyphen && label.last != hyphen
                && Self.isDomainLabel(label)
        }) else { return nil }
        return value
    }

    static let forbiddenInEmail = Set("\"(),:;<>[\\]".utf8)

    /// Letters (any script, for internationalised domains), digits and hyphens.
    private static func isDomainLabel(_ label: Substring.UTF8View.SubSequence) -> Bool {
        if label.allSatisfy({ $0 < 0x80 }) {
            return label.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") || (0x41...0x5A).contains($0) }
        }
        return String(decoding: label, as: UTF8.self).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
    }

    /// How a written phone number reads.
    package enum PhoneReading: Equatable {
        /// In E.164: `+` and 7 to 15 digits.
        case number(String)
        case malformed
        /// A national number (no `+` or `00`) with no country to read it in.
        case needsCountry
    }

    /// Reads a phone number: international (`+44 20 7946 0123`, `0044 …`) as written; a national
    /// one (`020 7946 0123`) with `country`'s calling code, its trunk prefix dropped.
    package static func readPhone(_ raw: String, country: Country?) -> PhoneReading {
        raw.isASCIIOnly ? asciiReadPhone(raw, country: country) : readPhoneByCharacters(raw, country: country)
    }

    /// ``readPhone(_:country:)`` on characters: the definition, for any text.
    package static func readPhoneByCharacters(_ raw: String, country: Country?) -> PhoneReading {
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
                return .malformed
            }
        }
        if !international && digits.hasPrefix("00") {
            international = true
            digits.removeFirst(2)
        } else if !international {
            guard (4...15).contains(digits.count) else { return .malformed }
            guard let country, !country.callingCode.isEmpty else { return .needsCountry }
            if !country.nationalPrefix.isEmpty && digits.hasPrefix(country.nationalPrefix) { digits.removeFirst(country.nationalPrefix.count) }
            digits = country.callingCode + digits
        }
        guard (7...15).contains(digits.count), digits.first != "0" else { return .malformed }
        return .number("+" + digits)
    }

    /// Returns the phone number in E.164, or nil when it is not a phone number; a national number
    /// takes `defaultCountryCode` (its leading 0 dropped).
    public static func phone(_ raw: String, defaultCountryCode: String) -> String? {
        let country = defaultCountryCode.isEmpty ? nil : Country(alpha2: "", alpha3: "", callingCode: defaultCountryCode, nationalPrefix: "0", names: [])
        guard case .number(let number) = readPhone(raw, country: country) else { return nil }
        return number
    }

    /// Returns the search form of a person's name: ``folded(_:)``, so "clemence" finds "Clémence",
    /// "ISTANBUL" finds "İstanbul" and "strasse" finds "Straße".
    public static func name(_ raw: String) -> String { folded(raw) }

    /// The search form of names in index entries written before issue #18: NFKC and case folding
    /// only (accents, dotted I and zero-width characters kept). Searches also probe it while an
    /// index may still hold such entries.
    package static func legacyName(_ raw: String) -> String {
        // ASCII needs neither NFKC nor full case folding: lower-casing is the same thing there.
        let folded = raw.isASCIIOnly
            ? raw.lowercased()
            : raw.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
        return folded.collapsingWhitespace
    }

    /// The forms whose index entries a search for `form` (a canonical value) probes: the current
    /// one and, for a name written differently before issue #18, its legacy form. Every candidate
    /// is still confirmed by decryption against the current form.
    package static func probeForms(_ value: String, as normalization: FieldSchema.Normalization) -> [String] {
        guard normalization == .name else { return [value] }
        let current = name(value), legacy = legacyName(value)
        return legacy == current ? [current] : [current, legacy]
    }

    /// A form for matching labels people type differently: NFKC (full-width and compatibility
    /// forms), zero-width and soft-hyphen characters removed, Turkish dotted and dotless I and
    /// German ß folded to i and ss, case and accents folded, whitespace collapsed.
    /// "Müller" = "MULLER", "İstanbul" = "istanbul", "Ｂａｎｋ" = "bank".
    public static func folded(_ raw: String) -> String { fold(raw, foldingAccents: true) }

    /// The form duplicate detection compares names in: ``folded(_:)`` with accents kept. "José
    /// Núñez" and "Jose Nunez" may be two people (one system's names are written without accents);
    /// a search finds both, duplicate detection does not join them on the name alone.
    package static func dedupeName(_ raw: String) -> String { fold(raw, foldingAccents: false) }

    private static func fold(_ raw: String, foldingAccents: Bool) -> String {
        if raw.isASCIIOnly { return raw.lowercased().collapsingWhitespace }
        var scalars = String.UnicodeScalarView()
        for scalar in raw.precomposedStringWithCompatibilityMapping.unicodeScalars {
            switch scalar.value {
            // Zero-width characters, soft hyphen, combining grapheme joiner and the bidirectional
            // marks and embeddings that copy and paste brings along.
            case 0x200B...0x200F, 0x202A...0x202E, 0x2060, 0x2066...0x2069, 0xFEFF, 0x00AD, 0x034F: continue
            case 0x0130, 0x0131: scalars.append("i")
            case 0x00DF, 0x1E9E: scalars.append(contentsOf: "ss".unicodeScalars)
            default: scalars.append(scalar)
            }
        }
        let options: String.CompareOptions = foldingAccents ? [.caseInsensitive, .diacriticInsensitive, .widthInsensitive] : [.caseInsensitive, .widthInsensitive]
        return String(scalars).folding(options: options, locale: nil).collapsingWhitespace
    }

    /// The key enumeration values and their aliases are matched by: ``folded(_:)`` without spaces,
    /// hyphens, underscores and dots, so "Bank Transfer", "bank-transfer" and "BANK_TRANSFER" agree.
    package static func enumKey(_ raw: String) -> String {
        String(folded(raw).unicodeScalars.filter { !" -_.".unicodeScalars.contains($0) })
    }

    /// Applies the normalisation a searchable field declares.
    package static func searchForm(_ value: String, as normalization: FieldSchema.Normalization, country: Country?) -> String? {
        switch normalization {
        case .email: email(value)
        case .phone: if case .number(let number) = readPhone(value, country: country) { number } else { nil }
        case .name: name(value)
        case .exact: value
        }
    }
}
