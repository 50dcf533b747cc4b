import Testing
import VaultCrypto
@testable import CustomerVault

@Suite("passphrase strength")
struct PassphraseStrengthTests {
    @Test("weak new passphrases are refused with the reason", arguments: [
        ("short pass", "characters"),
        ("Password123!", "common password"),
        ("qwertyqwerty", "common password"),
        ("!!Letmein2024", "common password"),
        ("aaaaaaaaaaaaaaaaaaaa", "predictable"),
        ("abababababababab", "predictable"),
        ("123412341234", "predictable"),
    ])
    func weak(passphrase: String, reason: String) throws {
        let weakness = PassphraseStrength.weakness(of: passphrase)
        #expect(weakness?.contains(reason) == true, "\(passphrase): \(weakness ?? "accepted")")
        #expect(try Credential.passphrase(passphrase).passphraseWeakness != nil)
    }

    @Test("strong passphrases pass, in any script; key files are not judged", arguments: [
        "correct horse battery staple", "cli test passphrase", "Tr0ub4dor&3 is not enough?", "pässwörter über alles", "東京の夜は長いですね本当に",
    ])
    func strong(passphrase: String) throws {
        #expect(PassphraseStrength.weakness(of: passphrase) == nil, "\(passphrase): \(PassphraseStrength.weakness(of: passphrase) ?? "")")
        #expect(try Credential.passphrase(passphrase).passphraseWeakness == nil)
        #expect(Credential.keyFile(try SecretBytes(randomCount: 32)).passphraseWeakness == nil)
    }
}
