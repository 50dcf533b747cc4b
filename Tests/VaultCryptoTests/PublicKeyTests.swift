import Testing
import VaultCrypto

@Suite("Sealed boxes and Ed25519 behaviour")
struct PublicKeyTests {
    // MARK: SealedBox

    @Test("seal then open, and a key pair rebuilt from its secret key matches")
    func sealedBoxRoundTrip() throws {
        let recipient = try SealedBox.KeyPair.generate()
        #expect(recipient.publicKey.count == SealedBox.publicKeyLength)
        #expect(try SealedBox.KeyPair(secretKey: recipient.secretKey).publicKey == recipient.publicKey)

        let message = SecureRandom.bytes(40)
        let sealed = try SealedBox.seal(message, to: recipient.publicKey)
        #expect(sealed.count == message.count + SealedBox.sealOverhead)
        #expect(bytes(of: try SealedBox.open(sealed, with: recipient)) == message)
        // Anonymous sender: each seal uses a fresh ephemeral key.
        #expect(try SealedBox.seal(message, to: recipient.publicKey) != sealed)
        #expect(try SealedBox.open(try SealedBox.seal([UInt8](), to: recipient.publicKey), with: recipient).count == 0)
    }

    @Test("every bit flip and every truncation of a sealed box, and the wrong recipient, fail")
    func sealedBoxTampering() throws {
        let recipient = try SealedBox.KeyPair.generate()
        let sealed = try SealedBox.seal(SecureRandom.bytes(32), to: recipient.publicKey)
        let flips = everyBitFlip(of: sealed)
        let flipsDetected = flips.filter { flip in
            errorCode { _ = try SealedBox.open(flip.bytes, with: recipient) } == .authenticationFailed
        }.count
        #expect(flipsDetected == flips.count, "\(flipsDetected) of \(flips.count) bit flips detected")

        let cutsDetected = (0..<sealed.count).filter { length in
            errorCode { _ = try SealedBox.open(sealed.prefix(length), with: recipient) } == .authenticationFailed
        }.count
        #expect(cutsDetected == sealed.count, "\(cutsDetected) of \(sealed.count) truncations detected")

        let stranger = try SealedBox.KeyPair.generate()
        #expect(throws: CryptoError.authenticationFailed()) { _ = try SealedBox.open(sealed, with: stranger) }
    }

    @Test("bad public keys are rejected")
    func sealedBoxBadKeys() throws {
        for length in [0, 31, 33] {
            #expect(throws: CryptoError.invalidLength(expected: 32, actual: length, what: "public key")) {
                _ = try SealedBox.seal([1, 2, 3], to: [UInt8](repeating: 9, count: length))
            }
        }
        // The all-zero point has small order; libsodium refuses to seal to it.
        #expect(throws: CryptoError.invalidParameters("")) {
            _ = try SealedBox.seal([1, 2, 3], to: [UInt8](repeating: 0, count: 32))
        }
        #expect(errorCode { _ = try SealedBox.KeyPair(secretKey: SecretBytes(copying: [1, 2, 3])) } == .invalidLength)
    }

    // MARK: Ed25519

    @Test("sign and verify; any change to message, signature or key fails verification")
    func ed25519Behaviour() throws {
        let signer = try Ed25519.KeyPair.generate()
        #expect(signer.publicKey.count == 32)
        #expect(signer.secretKey.count == 64)
        #expect(try Ed25519.KeyPair(seed: signer.seed).publicKey == signer.publicKey)

        let message = Array("audit checkpoint 1234".utf8)
        let signature = try Ed25519.sign(message, with: signer)
        #expect(signature.count == 64)
        #expect(Ed25519.isValid(signature: signature, for: message, publicKey: signer.publicKey))
        #expect(Ed25519.isValid(signature: signature, for: message.lazy.map { $0 }, publicKey: signer.publicKey))
        #expect(try Ed25519.sign(message, with: signer) == signature, "Ed25519 is deterministic")

        let signatureFlips = everyBitFlip(of: signature)
        let rejectedSignatures = signatureFlips.filter { !Ed25519.isValid(signature: $0.bytes, for: message, publicKey: signer.publicKey) }.count
        #expect(rejectedSignatures == signatureFlips.count, "\(rejectedSignatures) of \(signatureFlips.count) signature flips rejected")

        let messageFlips = everyBitFlip(of: message)
        let rejectedMessages = messageFlips.filter { !Ed25519.isValid(signature: signature, for: $0.bytes, publicKey: signer.publicKey) }.count
        #expect(rejectedMessages == messageFlips.count, "\(rejectedMessages) of \(messageFlips.count) message flips rejected")

        let other = try Ed25519.KeyPair.generate()
        #expect(!Ed25519.isValid(signature: signature, for: message, publicKey: other.publicKey))
        #expect(!Ed25519.isValid(signature: Array(signature.dropLast()), for: message, publicKey: signer.publicKey))
        #expect(!Ed25519.isValid(signature: signature, for: message, publicKey: Array(signer.publicKey.dropLast())))
        #expect(!Ed25519.isValid(signature: signature, for: message + [0], publicKey: signer.publicKey))
    }

    @Test("a seed of the wrong length is rejected")
    func ed25519SeedLength() {
        for length in [0, 31, 33, 64] {
            #expect(errorCode { _ = try Ed25519.KeyPair(seed: SecretBytes(copying: [UInt8](repeating: 1, count: length))) } == .invalidLength)
        }
    }
}
