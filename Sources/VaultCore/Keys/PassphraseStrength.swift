import Foundation

/// A new passphrase's strength, estimated before it protects a keyring.
///
/// Argon2id makes each guess cost about 100 ms at the INTERACTIVE floor; it cannot save a
/// passphrase an attacker guesses in a few thousand tries. The estimate is deliberately simple
/// and documented (SECURITY.md §3): at least 12 characters; the bits of a random choice from the
/// character classes used (lower case, upper case, digits, other ASCII, space, other scripts)
/// times the length, scaled down when few distinct characters repeat; at least 50 bits; and not a
/// common password or keyboard pattern with digits or symbols added.
public enum PassphraseStrength {
    public static let minimumLength = 12
    public static let minimumBits = 50.0

    /// Why `passphrase` is too weak, or nil when it is strong enough.
    public static func weakness(of passphrase: String) -> String? {
        weakness(of: Array(passphrase.unicodeScalars))
    }

    /// ``weakness(of:)-(String)`` over scalars, so a passphrase held as bytes is checked without a
    /// `String` copy (the caller wipes the array).
    package static func weakness(of scalars: [Unicode.Scalar]) -> String? {
        guard scalars.count >= minimumLength else {
            return "it has \(scalars.count) characters; use at least \(minimumLength) (several unrelated words are easiest to remember)"
        }
        // "Password123!", "qwertyqwerty": a common base with digits or symbols around it, or repeated.
        let edge = Set("0123456789!@#$%^&*()-_=+.,;:?'\" ".unicodeScalars)
        var core = Array(scalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar(UInt8($0.value + 32)) : $0 }.drop { edge.contains($0) })
        while let last = core.last, edge.contains(last) { core.removeLast() }
        defer { for index in core.indices { core[index] = " " } }
        for word in common {
            let base = Array(word.unicodeScalars)
            guard !core.isEmpty, core.count % base.count == 0 else { continue }
            if stride(from: 0, to: core.count, by: base.count).allSatisfy({ Array(core[$0..<($0 + base.count)]) == base }) && (core.count == base.count || base.count >= 5) {
                return "it is a common password or keyboard pattern with a few characters added"
            }
        }
        let bits = estimatedBits(scalars)
        guard bits >= minimumBits else {
            return "it is too predictable (about \(Int(bits)) bits; at least \(Int(minimumBits)) are needed): use a longer passphrase with fewer repeats"
        }
        return nil
    }

    /// Length × log2(pool of the character classes used), scaled by how many characters differ.
    package static func estimatedBits(_ scalars: [Unicode.Scalar]) -> Double {
        var pool = 0
        if scalars.contains(where: { ("a"..."z").contains($0) }) { pool += 26 }
        if scalars.contains(where: { ("A"..."Z").contains($0) }) { pool += 26 }
        if scalars.contains(where: { ("0"..."9").contains($0) }) { pool += 10 }
        if scalars.contains(where: { $0 == " " }) { pool += 1 }
        if scalars.contains(where: { $0.isASCII && $0 != " " && !$0.properties.isAlphabetic && !("0"..."9").contains($0) }) { pool += 33 }
        if scalars.contains(where: { !$0.isASCII }) { pool += 100 }
        let distinct = Set(scalars).count
        let repetition = min(1.0, Double(distinct) / max(1.0, Double(scalars.count) / 3.0))
        return Double(scalars.count) * log2(Double(max(pool, 2))) * repetition
    }

    /// Bases of the most common passwords (lists of leaked passwords) and keyboard patterns.
    package static let common: Set<String> = [
        "password", "passw0rd", "p@ssw0rd", "passwort", "motdepasse", "contraseña", "123456789", "1234567890", "qwerty", "qwertyuiop",
        "azerty", "qwertz", "asdfghjkl", "zxcvbnm", "letmein", "welcome", "iloveyou", "admin", "administrator", "changeme", "secret",
        "monkey", "dragon", "football", "baseball", "sunshine", "princess", "master", "shadow", "superman", "trustno1", "abc123",
        "111111", "000000", "abcdef", "abcdefgh", "customer", "vault", "cvault", "database", "default", "test", "testing", "summer",
        "winter", "spring", "autumn", "january", "company", "login",
    ]
}

