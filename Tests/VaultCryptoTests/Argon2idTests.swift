import Foundation
import Testing
@_spi(KnownAnswerTests) import VaultCrypto

@Suite("Argon2id policy")
struct Argon2idTests {
    let passphrase = SecretBytes(copying: "correct horse battery staple".utf8)
    let salt = SecureRandom.bytes(Argon2id.saltLength)

    @Test("presets match libsodium's documented values")
    func presets() {
        typealias P = Argon2id.Parameters
        #expect(P.interactive == P(opsLimit: 2, memLimit: 64 * 1024 * 1024))
        #expect(P.moderate == P(opsLimit: 3, memLimit: 256 * 1024 * 1024))
        #expect(P.sensitive == P(opsLimit: 4, memLimit: 1024 * 1024 * 1024))
        #expect(P.maximumAccepted == P(opsLimit: 16, memLimit: 1024 * 1024 * 1024))
        for preset in [P.interactive, .moderate, .sensitive, .maximumAccepted] {
            #expect(preset.isWithinAcceptedRange)
        }
    }

    static let rejected: [Argon2id.Parameters] = [
        .init(opsLimit: 1, memLimit: 64 << 20),               // one pass below interactive
        .init(opsLimit: 2, memLimit: (64 << 20) - 1),         // one byte below interactive
        .init(opsLimit: 0, memLimit: 0),
        .init(opsLimit: 3, memLimit: 8 << 20),                // libsodium accepts it; the vault does not
        .init(opsLimit: 17, memLimit: 64 << 20),              // above the cap
        .init(opsLimit: 4, memLimit: (1 << 30) + 1024),       // above the cap
        .init(opsLimit: .max, memLimit: .max),
    ]

    @Test("parameters below interactive or above the cap are refused before any work", arguments: rejected)
    func rejectsOutOfRange(parameters: Argon2id.Parameters) {
        #expect(!parameters.isWithinAcceptedRange)
        #expect(throws: CryptoError.invalidParameters("")) {
            _ = try Argon2id.deriveKey(length: 32, passphrase: passphrase, salt: salt, parameters: parameters)
        }
    }

    @Test("a salt of the wrong length is refused", arguments: [0, 8, 15, 17, 32])
    func rejectsSaltLength(length: Int) {
        #expect(throws: CryptoError.invalidParameters("")) {
            _ = try Argon2id.deriveKey(length: 32, passphrase: passphrase, salt: SecureRandom.bytes(length), parameters: .interactive)
        }
        #expect(throws: CryptoError.invalidParameters("")) {
            _ = try Argon2id.deriveKeyUnchecked(length: 32, passphrase: passphrase, salt: SecureRandom.bytes(length), opsLimit: 1, memLimit: 8192)
        }
    }

    @Test("output shorter than libsodium's minimum is refused")
    func rejectsShortOutput() {
        #expect(throws: CryptoError.invalidLength(expected: 16, actual: 15, what: "output")) {
            _ = try Argon2id.deriveKeyUnchecked(length: 15, passphrase: passphrase, salt: salt, opsLimit: 1, memLimit: 8192)
        }
    }

    @Test("deriveKey at the interactive preset is deterministic and depends on every input")
    func deriveKeyInteractive() throws {
        let key = try Argon2id.deriveKey(length: 32, passphrase: passphrase, salt: salt, parameters: .interactive)
        #expect(key.count == 32)
        let again = try Argon2id.deriveKey(length: 32, passphrase: passphrase, salt: salt, parameters: .interactive)
        #expect(key == again)
        // The policy wrapper adds no transformation of its own.
        let raw = try Argon2id.deriveKeyUnchecked(length: 32, passphrase: passphrase, salt: salt, opsLimit: 2, memLimit: 64 << 20)
        #expect(key == raw)

        var otherSalt = salt
        otherSalt[0] ^= 1
        #expect(try Argon2id.deriveKey(length: 32, passphrase: passphrase, salt: otherSalt, parameters: .interactive) != key)
        let otherPassphrase = SecretBytes(copying: "correct horse battery stapler".utf8)
        #expect(try Argon2id.deriveKey(length: 32, passphrase: otherPassphrase, salt: salt, parameters: .interactive) != key)
    }

    @Test("parameters round-trip through Codable")
    func codable() throws {
        let data = try JSONEncoder().encode(Argon2id.Parameters.moderate)
        #expect(try JSONDecoder().decode(Argon2id.Parameters.self, from: data) == .moderate)
    }
}
