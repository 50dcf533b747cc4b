import Foundation

/// An ISO 3166-1 country with what reading its national phone numbers needs.
package struct Country: Sendable, Equatable {
    package let alpha2: String
    package let alpha3: String
    /// E.164 calling code without `+` ("44"); empty for a territory with none.
    package let callingCode: String
    /// The trunk prefix dialled before national numbers ("0" in the UK, "1" in the US, "8" in
    /// Russia, none in Italy or Spain), dropped when a number is written internationally.
    package let nationalPrefix: String
    /// Short, official and common English names, and a few local ones CRM exports use.
    package let names: [String]
}

/// Reads a country as CRM exports write it: `GB`, `gbr`, `United Kingdom`, `Türkiye`, `Turkey`.
/// The table (`Countries+Table.swift`) is generated from pycountry and libphonenumber's metadata
/// by `scripts/generate-countries.py`.
package enum Countries {
    private static let byKey: [String: Country] = {
        var keys: [String: Country] = [:]
        for country in table {
            keys[country.alpha2.lowercased()] = country
            keys[country.alpha3.lowercased()] = country
            for name in country.names { keys[Normalization.folded(name)] = country }
        }
        return keys
    }()

    /// The country `text` names, or nil.
    package static func lookup(_ text: String) -> Country? {
        let trimmed = text.trimmedWhitespace
        guard !trimmed.isEmpty, trimmed.utf8.count <= 100 else { return nil }
        return byKey[trimmed.lowercased()] ?? byKey[Normalization.folded(trimmed)]
    }

    /// The country whose alpha-2 code is `code` (upper-case), or nil.
    package static func alpha2(_ code: String) -> Country? {
        byKey[code.lowercased()].flatMap { $0.alpha2 == code ? $0 : nil }
    }
}
