import Foundation
import Testing
import VaultCore

/// The byte-wise name checks agree with the regular expressions they replaced, on every string
/// of up to three characters over an alphabet of the edge cases and on random longer ones.
@Suite("Name patterns")
struct NamePatternTests {
    static let alphabet: [String] = ["a", "z", "A", "Z", "0", "9", "_", "-", ".", " ", "é", "\n", "`", "{", "/", ":", "@", "[", "ä"]

    /// ICU's `$` also matches before a final line break; the byte-wise checks refuse one.
    static func regex(_ pattern: String, _ text: String) -> Bool {
        !text.hasSuffix("\n") && text.range(of: pattern, options: .regularExpression) != nil
    }

    static func samples() -> [String] {
        var strings = [""]
        var level = [""]
        for _ in 1...3 {
            level = level.flatMap { prefix in alphabet.map { prefix + $0 } }
            strings += level
        }
        var generator = SystemRandomNumberGenerator()
        for length in [15, 16, 17, 31, 32, 33, 47, 48, 49, 62, 63, 64, 65] {
            for _ in 0..<40 {
                let pool = ["a", "b", "_", "0", "-", "."]
                strings.append("a" + String((1..<length).map { _ in Character(pool.randomElement(using: &generator)!) }))
            }
            strings.append(String(repeating: "1", count: length) + ".25")
            strings.append("-" + String(repeating: "7", count: length))
            strings.append("3." + String(repeating: "5", count: length % 9))
        }
        return strings + ["12.50", "-0.5", "1.", ".5", "--1", "1.2.3", "1e5", "１２"]
    }

    @Test("each check answers as its regular expression did")
    func agreesWithTheRegularExpressions() {
        var checked = 0
        for text in Self.samples() {
            #expect(NamePattern.lowerIdentifier(text, maxLength: 32, hyphen: true) == Self.regex(#"^[a-z][a-z0-9_-]{0,31}$"#, text), "\(text.debugDescription)")
            #expect(NamePattern.lowerIdentifier(text, maxLength: 48) == Self.regex(#"^[a-z][a-z0-9_]{0,47}$"#, text), "\(text.debugDescription)")
            #expect(NamePattern.lowerIdentifier(text, maxLength: 32) == Self.regex(#"^[a-z][a-z0-9_]{0,31}$"#, text), "\(text.debugDescription)")
            #expect(NamePattern.lowerIdentifier(text, maxLength: 63) == Self.regex(#"^[a-z][a-z0-9_]{0,62}$"#, text), "\(text.debugDescription)")
            #expect(NamePattern.principalName(text) == Self.regex(#"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"#, text), "\(text.debugDescription)")
            #expect(NamePattern.decimal(text) == Self.regex(#"^-?[0-9]{1,15}(\.[0-9]{1,6})?$"#, text), "\(text.debugDescription)")
            checked += 1
        }
        #expect(checked > 7_000)
        #expect(!NamePattern.lowerIdentifier("admin\n", maxLength: 32) && !NamePattern.decimal("1.5\n"))
    }
}
