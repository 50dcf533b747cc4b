import Foundation
import Testing
@testable import CustomerVault
import VaultCore
import VaultTestSupport

/// The byte-level readings of ASCII e-mails, phone numbers and spacing must give exactly what
/// their definitions (on scalars and characters) give: thousands of generated near-misses each.
@Suite("ASCII fast paths of normalisation")
struct NormalizationFastPathTests {
    /// Strings over `alphabet`, dense in the characters each rule looks at, with a fixed seed.
    static func generated(_ alphabet: String, count: Int, maxLength: Int, seed: UInt64) -> [String] {
        var generator = SeededGenerator(state: seed)
        let letters = Array(alphabet.utf8)
        return (0..<count).map { _ in
            let length = Int(generator.next() % UInt64(maxLength + 1))
            return String(decoding: (0..<length).map { _ in letters[Int(generator.next() % UInt64(letters.count))] }, as: UTF8.self)
        }
    }

    @Test("e-mail: the byte reading equals the scalar reading on 20,000 generated strings and on the classic cases")
    func email() {
        var cases = ["ada@example.com", " Ada.King@Example.CO.uk\t", "a..b@example.com", ".a@example.com", "a.@example.com", "a@b", "a@-b.com",
                     "a@b-.com", "a@b..com", "a@@b.com", "@b.com", "a@", "a b@c.com", "a\"b@c.com", "a@b_c.com", "x@1.2", "A@B.C",
                     String(repeating: "a", count: 64) + "@b.com", String(repeating: "a", count: 65) + "@b.com",
                     "a@" + String(repeating: "b", count: 63) + ".com", "a@" + String(repeating: "b", count: 64) + ".com",
                     String(repeating: "a", count: 60) + "@" + String(repeating: "b.", count: 100) + "com", "a\u{7F}@b.com", "a@b.com\r\n"]
        cases += Self.generated("aZ9.@-_ \t\"(,:;<>[\\]+x", count: 20_000, maxLength: 14, seed: 7)
        // Shaped like addresses (local part, @, labels), so that many are valid and the rest fail one rule.
        let locals = Self.generated("aB._-+\" ", count: 5_000, maxLength: 6, seed: 8)
        let labels = Self.generated("aZ9-", count: 15_000, maxLength: 5, seed: 9)
        for (index, local) in locals.enumerated() {
            let count = 1 + index % 3
            cases.append(local + "@" + labels[(index * 3)..<(index * 3 + count)].joined(separator: "."))
        }
        var accepted = 0
        for value in cases {
            let fast = Normalization.asciiEmail(value)
            #expect(fast == Normalization.emailByScalars(value), "a \(value.utf8.count)-byte case")
            if fast != nil { accepted += 1 }
        }
        #expect(accepted > 150 && cases.count - accepted > 10_000, "the generated cases include valid and refused addresses")
    }

    @Test("phone: the byte reading equals the character reading on 20,000 generated strings, with and without a country")
    func phone() throws {
        let countries: [Country?] = [nil, Countries.alpha2("GB"), Countries.alpha2("US"), Countries.alpha2("IT"), Countries.alpha2("RU")]
        var cases = ["+44 20 7946 0958", "020 7946 0958", "+44 (0)20 7946 0958", "0044 20 7946 0958", "(0)+44 20 7946 0958", "((0)0))",
                     "+1 (555) 010-0199", "555.010.0199", "12", "+0 123 4567", " +49 30 1234567 ", "+44 20 7946 0958 ext 4", "++44 1234567",
                     "1234567890123456", "+123456789012345", "+1234567890123456", "0 800 123 4567", "8 495 123-45-67", "06 1234 5678"]
        cases += Self.generated("0123456789 +-.()/x(0)", count: 20_000, maxLength: 18, seed: 11)
        var numbers = 0
        for value in cases {
            for country in countries {
                let fast = Normalization.asciiReadPhone(value, country: country)
                #expect(fast == Normalization.readPhoneByCharacters(value, country: country), "a \(value.utf8.count)-byte case, country \(country?.alpha2 ?? "none")")
                if case .number = fast { numbers += 1 }
            }
        }
        #expect(numbers > 1_000, "the generated cases include readable numbers")
    }

    @Test("spacing: collapsing whitespace keeps the same answer where ASCII text is already collapsed")
    func collapsing() {
        var cases = ["Ada Lovelace", " Ada", "Ada ", "Ada  King", "Ada\tKing", "", " ", "a", "Zoë  Ångström", "x\u{00A0}y", "a\nb"]
        cases += Self.generated("ab \t\n", count: 5_000, maxLength: 8, seed: 13)
        for value in cases {
            var result = String.UnicodeScalarView()
            var pending = false
            for scalar in value.unicodeScalars {
                if scalar.properties.isWhitespace {
                    pending = true
                } else {
                    if pending && !result.isEmpty { result.append(" ") }
                    pending = false
                    result.append(scalar)
                }
            }
            #expect(value.collapsingWhitespace == String(result), "a \(value.utf8.count)-byte case")
        }
    }
}

@Suite("Dates by arithmetic")
struct DayArithmeticTests {
    @Test("every day string of 1599 to 2101 (and impossible ones) reads as Foundation reads it")
    func modernDays() {
        var compared = 0, valid = 0
        for year in [1599, 1600, 1700, 1800, 1899, 1900, 1999, 2000, 2023, 2024, 2100, 2101, 9999] {
            for month in 0...13 {
                for day in 0...32 {
                    let text = String(format: "%04d-%02d-%02d", year, month, day)
                    let expected = Timestamps.parseDayByFoundation(text)
                    #expect(Timestamps.parseDay(text) == expected, "\(text)")
                    if expected != nil { valid += 1 }
                    compared += 1
                }
            }
        }
        for text in ["2024-1-01", "2024-01-1 ", "2024/01/01", "20240101", "+2024-01-01", "2024-01-01T", "２０２４-01-01", "0999-12-31", "1582-10-10"] {
            #expect(Timestamps.parseDay(text) == Timestamps.parseDayByFoundation(text), "\(text)")
            compared += 1
        }
        #expect(compared == 13 * 14 * 33 + 9)
        #expect(valid == 13 * 365 + 3, "13 years, of which 1600, 2000 and 2024 are leap years")
    }

    @Test("age in whole years by arithmetic equals the definition around birthdays")
    func ages() {
        for (birth, today, age) in [("1985-04-12", "2026-04-11", 40), ("1985-04-12", "2026-04-12", 41), ("2000-02-29", "2026-02-28", 25),
                                    ("2000-02-29", "2026-03-01", 26), ("1890-01-01", "2026-12-31", 136)] {
            #expect(Timestamps.age(birthDay: birth, today: today) == age)
        }
        #expect(Timestamps.age(birthDay: "not-a-date", today: "2026-01-01") == nil)
    }
}
