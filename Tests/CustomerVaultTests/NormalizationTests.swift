import Foundation
import Testing
@testable import CustomerVault

@Suite("Normalisation and validation")
struct NormalizationTests {
    @Test("e-mail is trimmed and lower-cased; malformed addresses are refused")
    func email() {
        #expect(Normalization.email("  Jose.Nunez@Example.COM \n") == "jose.nunez@example.com")
        for bad in ["", "plain", "a@b", "a@@b.com", "a b@c.com", "@x.com", "a@-x.com", "a..b@x.com", "a@x..com", "a@x.com\u{0}"] {
            #expect(Normalization.email(bad) == nil, "should refuse \(bad.debugDescription)")
        }
    }

    @Test("phone numbers become E.164 with the default country code", arguments: [
        ("020 7946 0123", "+442079460123"),
        ("(0)20-7946-0123", "+442079460123"),
        ("+44 (0)20 7946 0123", "+442079460123"),
        ("0044 20 7946 0123", "+442079460123"),
        ("+1 415 555 0100", "+14155550100"),
        ("+1 (415) 555.0100", "+14155550100"),
    ])
    func phone(raw: String, e164: String) {
        #expect(Normalization.phone(raw, defaultCountryCode: "44") == e164)
    }

    @Test("non-numbers are not phone numbers")
    func badPhone() {
        for bad in ["", "call me", "+44 20 CALL NOW", "12", "+1234567890123456789", "++44 20"] {
            #expect(Normalization.phone(bad, defaultCountryCode: "44") == nil, "should refuse \(bad)")
        }
    }

    @Test("names are NFKC, case- and accent-folded, Turkish I and ß folded, zero-width characters removed, whitespace collapsed")
    func names() {
        #expect(Normalization.name("Clémence") == "clemence")
        #expect(Normalization.name("İSTANBUL") == "istanbul" && Normalization.name("ıstanbul") == "istanbul")
        #expect(Normalization.name("Ada\u{200B}\u{200D}\u{FEFF} Love\u{00AD}lace") == "ada lovelace")
        #expect(Normalization.name("ẞ") == "ss")
        // Bidirectional marks and embeddings that copy and paste brings along.
        #expect(Normalization.name("\u{200E}Ada\u{202B} Love\u{034F}lace\u{202C}\u{2069}") == "ada lovelace")
        // What indexes written before the change held, still probed by searches.
        #expect(Normalization.probeForms("Clémence", as: .name) == ["clemence", "clémence"])
        #expect(Normalization.probeForms("Ada Lovelace", as: .name) == ["ada lovelace"])
        #expect(Normalization.probeForms("x@example.com", as: .email) == ["x@example.com"])
        #expect(Normalization.name("  José   NÚÑEZ ") == Normalization.name("josé núñez"))
        // Decomposed é (e + U+0301) equals precomposed é.
        #expect(Normalization.name("Jose\u{301}") == Normalization.name("José"))
        // Full-width letters fold to ASCII under NFKC; ß folds to ss.
        #expect(Normalization.name("ＡＤＡ") == "ada")
        #expect(Normalization.name("Straße") == Normalization.name("STRASSE"))
        #expect(Normalization.name("山田\u{3000}太郎") == "山田 太郎")
    }

    @Test("validator refuses each kind of bad value and names the field")
    func validator() throws {
        let validator = FieldValidator(schema: try Schema.shippedDefault())
        let base = ["name": "Ada", "email": "ada@example.com"]
        let cases: [([String: String], String)] = [
            (["name": "Ada"], "email"),
            (base.merging(["age": "999"]) { $1 }, "age"),
            (base.merging(["age": "-1"]) { $1 }, "age"),
            (base.merging(["age": "forty"]) { $1 }, "age"),
            (base.merging(["name": String(repeating: "x", count: 201)]) { $1 }, "name"),
            (base.merging(["phone": "not a phone"]) { $1 }, "phone"),
            (base.merging(["birth_date": "2023-02-30"]) { $1 }, "birth_date"),
            (base.merging(["birth_date": "2999-01-01"]) { $1 }, "birth_date"),
            (base.merging(["region": "MARS"]) { $1 }, "region"),
            (base.merging(["shoe_size": "42"]) { $1 }, "shoe_size"),
            (base.merging(["name": "Ada\u{7}"]) { $1 }, "name"),
        ]
        for (values, field) in cases {
            do {
                _ = try validator.validateRecord(values, entity: .customers)
                Issue.record("accepted a bad \(field)")
            } catch {
                #expect(error.problems.map(\.field) == [field])
                #expect(!error.description.contains("999") && !error.description.contains("forty"), "the value must not be echoed")
            }
        }
        let ok = try validator.validateRecord(base.merging(["name": String(repeating: "x", count: 200), "region": "eu"]) { $1 }, entity: .customers)
        #expect(ok["region"] == "EU")
    }

    @Test("enumeration values match ignoring case, ASCII or not, and nothing else matches")
    func enumerationCase() {
        let pairs: [(String, String, Bool)] = [
            ("EU", "eu", true), ("EU", "Eu", true), ("EU", "EU", true), ("EU", "EU ", false), ("EU", "E", false),
            ("EU", "FU", false), ("unspecified", "UNSPECIFIED", true), ("a@", "A@", true), ("[", "{", false),
            ("ÉTÉ", "été", true), ("Straße", "STRASSE", "Straße".caseInsensitiveCompare("STRASSE") == .orderedSame),
            ("EU", "ЕU", false),  // Cyrillic Е
        ]
        for (allowed, input, expected) in pairs {
            #expect(allowed.equalsIgnoringCase(input) == expected, "\(allowed) vs \(input)")
            #expect(allowed.equalsIgnoringCase(input) == (allowed.caseInsensitiveCompare(input) == .orderedSame))
        }
    }

    @Test("blind indexes truncate to the planned bits and the budget is as documented")
    func blindIndexBudget() throws {
        let schema = try Schema.shippedDefault()
        for field in schema.searchableFields where !field.unique {
            let bits = try #require(field.search?.indexBits)
            let perValue = BlindIndex.expectedRecordsPerValue(records: schema.expectedRecords, bits: bits)
            // CipherSweet's rule: at least 2 records per value, well below sqrt(R).
            #expect(perValue >= 2, "\(field.name): \(perValue) records per index value")
            #expect(perValue < Double(schema.expectedRecords).squareRoot(), "\(field.name)")
        }
        let key = try VaultCryptoKey.random()
        let digest = try BlindIndex.digest("x", key: key, bits: 12)
        #expect(digest.count == 2)
        #expect(digest[1] & 0x0F == 0)
    }
}

import VaultCrypto
enum VaultCryptoKey {
    static func random() throws -> SecretBytes { try SecretBytes(randomCount: 32) }
}
