import Testing
import VaultCrypto

@Suite("XChaCha20-Poly1305 behaviour")
struct AEADTests {
    let key: SecretBytes
    let associatedData = Array("customer/42/email".utf8)
    let plaintext = Array("alice@example.com, +44 20 7946 0000, 1 Example Street".utf8)

    init() throws {
        key = try SecretBytes(randomCount: XChaCha20Poly1305.keyLength)
    }

    @Test("seal then open returns the plaintext, for empty and non-contiguous input too")
    func roundTrip() throws {
        let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: associatedData)
        #expect(sealed.count == XChaCha20Poly1305.nonceLength + plaintext.count + XChaCha20Poly1305.tagLength)
        #expect(try XChaCha20Poly1305.open(sealed, key: key, associatedData: associatedData) == plaintext)
        #expect(bytes(of: try XChaCha20Poly1305.openSecret(sealed, key: key, associatedData: associatedData)) == plaintext)

        // An ArraySlice that does not start at index 0 is read from its own start.
        let framed = [0xAA, 0xBB] + sealed
        #expect(try XChaCha20Poly1305.open(framed[2...], key: key, associatedData: associatedData) == plaintext)

        // A collection without contiguous storage goes through the copying path.
        let lazy = plaintext.lazy.map { $0 }
        let sealedLazy = try XChaCha20Poly1305.seal(lazy, key: key, associatedData: associatedData)
        #expect(try XChaCha20Poly1305.open(sealedLazy.lazy.map { $0 }, key: key, associatedData: associatedData) == plaintext)

        let sealedEmpty = try XChaCha20Poly1305.seal([UInt8](), key: key, associatedData: [])
        #expect(sealedEmpty.count == XChaCha20Poly1305.nonceLength + XChaCha20Poly1305.tagLength)
        #expect(try XChaCha20Poly1305.open(sealedEmpty, key: key, associatedData: []) == [])
    }

    @Test("two seals of the same plaintext use different nonces")
    func randomNonce() throws {
        let first = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: associatedData)
        let second = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: associatedData)
        #expect(first.prefix(XChaCha20Poly1305.nonceLength) != second.prefix(XChaCha20Poly1305.nonceLength))
        #expect(first != second)
    }

    @Test("nonces from the buffered source never repeat, across refills and from many threads at once")
    func nonceSourceNeverRepeats() async throws {
        // 4 threads × 2,500 nonces: about 60 refills of the 4 KiB buffer, each boundary crossed
        // while other threads take nonces.
        let batches = try await withThrowingTaskGroup(of: [[UInt8]].self) { group in
            for _ in 0..<4 {
                group.addTask { [key, plaintext, associatedData] in
                    try (0..<2_500).map { _ in
                        Array(try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: associatedData).prefix(XChaCha20Poly1305.nonceLength))
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(batches.count == 10_000)
        #expect(Set(batches).count == 10_000, "a nonce was handed out twice")
        #expect(batches.allSatisfy { $0.count == XChaCha20Poly1305.nonceLength })
        // Sizes that do not divide the buffer, and one too large for it (drawn directly).
        let mixed = (0..<1_000).map { SecureRandom.nonce(1 + $0 % 40) } + [SecureRandom.nonce(300), SecureRandom.nonce(0)]
        #expect(mixed.map(\.count) == (0..<1_000).map { 1 + $0 % 40 } + [300, 0])
        #expect(Set(mixed.filter { $0.count >= 16 }).count == mixed.filter { $0.count >= 16 }.count)
    }

    @Test("every single-bit flip of an envelope is detected")
    func everyBitFlipDetected() throws {
        let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: associatedData)
        let cases = everyBitFlip(of: sealed)
        var detected = 0
        var detectedSecret = 0
        for modified in cases {
            if errorCode({ _ = try XChaCha20Poly1305.open(modified.bytes, key: key, associatedData: associatedData) }) == .authenticationFailed {
                detected += 1
            }
            if errorCode({ _ = try XChaCha20Poly1305.openSecret(modified.bytes, key: key, associatedData: associatedData) }) == .authenticationFailed {
                detectedSecret += 1
            }
        }
        #expect(cases.count == sealed.count * 8)
        #expect(detected == cases.count, "\(detected) of \(cases.count) bit flips detected by open")
        #expect(detectedSecret == cases.count, "\(detectedSecret) of \(cases.count) bit flips detected by openSecret")
    }

    @Test("every truncation of an envelope is detected, including below nonce + tag")
    func everyTruncationDetected() throws {
        let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: associatedData)
        var detected = 0
        for length in 0..<sealed.count {
            let cut = Array(sealed.prefix(length))
            if errorCode({ _ = try XChaCha20Poly1305.open(cut, key: key, associatedData: associatedData) }) == .authenticationFailed,
               errorCode({ _ = try XChaCha20Poly1305.openSecret(cut, key: key, associatedData: associatedData) }) == .authenticationFailed {
                detected += 1
            }
        }
        #expect(detected == sealed.count, "\(detected) of \(sealed.count) truncations detected")
    }

    @Test("a ciphertext moved to another slot (different associated data) does not open")
    func wrongAssociatedData() throws {
        let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: associatedData)
        let otherSlots = [
            Array("customer/43/email".utf8),
            Array("customer/42/phone".utf8),
            Array("customer/42/email".utf8.dropLast()),
            [],
        ]
        for slot in otherSlots {
            #expect(throws: CryptoError.authenticationFailed()) {
                _ = try XChaCha20Poly1305.open(sealed, key: key, associatedData: slot)
            }
        }
    }

    @Test("a different key does not open, with the same coarse error")
    func wrongKey() throws {
        let sealed = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: associatedData)
        let other = try SecretBytes(randomCount: XChaCha20Poly1305.keyLength)
        #expect(throws: CryptoError.authenticationFailed()) {
            _ = try XChaCha20Poly1305.openSecret(sealed, key: other, associatedData: associatedData)
        }
    }

    @Test("wrong key and nonce lengths are rejected as invalidLength")
    func lengthChecks() throws {
        for length in [0, 16, 31, 33, 64] {
            let badKey = SecretBytes(copying: [UInt8](repeating: 1, count: length))
            #expect(throws: CryptoError.invalidLength(expected: 32, actual: length, what: "key")) {
                _ = try XChaCha20Poly1305.seal(plaintext, key: badKey, associatedData: [])
            }
            #expect(errorCode { _ = try XChaCha20Poly1305.open([UInt8](repeating: 0, count: 64), key: badKey, associatedData: []) } == .invalidLength)
        }
        for length in [0, 12, 23, 25] {
            #expect(throws: CryptoError.invalidLength(expected: 24, actual: length, what: "nonce")) {
                _ = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: [], nonce: [UInt8](repeating: 0, count: length))
            }
        }
    }
}

@Suite("XChaCha20-Poly1305 sealing padded text in place")
struct PaddedSealTests {
    @Test("equals padding then sealing out of place with the same nonce, at every length around the block boundaries")
    func matchesOutOfPlace() throws {
        let key = try SecretBytes(randomCount: XChaCha20Poly1305.keyLength)
        let associatedData = Array("cvault.field.v1/customers/email".utf8)
        let prefix: [UInt8] = [1, 0, 0, 0, 7]
        var checked = 0
        for length in 0...50 {
            let message = String(repeating: "é", count: length / 2) + String(repeating: "a", count: length % 2)
            let sealed = try associatedData.withUnsafeBytes {
                try XChaCha20Poly1305.sealPadded(message.utf8, paddingBlock: 16, prefix: prefix, key: key, associatedData: $0)
            }
            var padded = Array(message.utf8)
            try Padding.pad(&padded, blockSize: 16)
            #expect(sealed.count == prefix.count + XChaCha20Poly1305.nonceLength + padded.count + XChaCha20Poly1305.tagLength)
            #expect(Array(sealed.prefix(prefix.count)) == prefix)
            let nonce = Array(sealed[prefix.count..<(prefix.count + XChaCha20Poly1305.nonceLength)])
            let reference = try XChaCha20Poly1305.seal(padded, key: key, associatedData: associatedData, nonce: nonce)
            #expect(Array(sealed.dropFirst(prefix.count)) == reference)
            var opened = try XChaCha20Poly1305.open(sealed.dropFirst(prefix.count), key: key, associatedData: associatedData)
            try Padding.unpad(&opened, blockSize: 16)
            #expect(opened == Array(message.utf8))
            checked += 1
        }
        #expect(checked == 51)
    }

    @Test("draws a fresh nonce for each value and refuses a bad key or block size")
    func noncesAndRefusals() throws {
        let key = try SecretBytes(randomCount: XChaCha20Poly1305.keyLength)
        let nonces = try Set((0..<200).map { _ in
            try [UInt8]().withUnsafeBytes {
                Array(try XChaCha20Poly1305.sealPadded("same".utf8, paddingBlock: 16, prefix: [], key: key, associatedData: $0).prefix(24))
            }
        })
        #expect(nonces.count == 200)
        let shortKey = try SecretBytes(randomCount: 16)
        #expect(throws: CryptoError.self) {
            try [UInt8]().withUnsafeBytes { try XChaCha20Poly1305.sealPadded("x".utf8, paddingBlock: 16, prefix: [], key: shortKey, associatedData: $0) }
        }
        #expect(throws: CryptoError.self) {
            try [UInt8]().withUnsafeBytes { try XChaCha20Poly1305.sealPadded("x".utf8, paddingBlock: 0, prefix: [], key: key, associatedData: $0) }
        }
    }

    @Test("opening padded text gives the text back, nil for bytes that are not UTF-8, and refuses every damaged input")
    func openPaddedText() throws {
        let key = try SecretBytes(randomCount: XChaCha20Poly1305.keyLength)
        let ad = Array("slot".utf8)
        func open(_ combined: [UInt8], key: SecretBytes, ad: [UInt8]) throws -> String? {
            try ad.withUnsafeBytes { try XChaCha20Poly1305.openPaddedText(combined[...], paddingBlock: 16, key: key, associatedData: $0) }
        }
        for text in ["", "a", "Zoë Ångström", String(repeating: "x", count: 16), String(repeating: "y", count: 100)] {
            let sealed = try ad.withUnsafeBytes { try XChaCha20Poly1305.sealPadded(text.utf8, paddingBlock: 16, prefix: [], key: key, associatedData: $0) }
            #expect(try open(sealed, key: key, ad: ad) == text)
            var refused = 0
            for index in sealed.indices {
                var flipped = sealed
                flipped[index] ^= 0x01
                if (try? open(flipped, key: key, ad: ad)) == nil { refused += 1 }
            }
            #expect(refused == sealed.count, "every flipped byte is refused")
            #expect(throws: CryptoError.self) { try open(sealed, key: key, ad: ad + [0]) }
            #expect(throws: CryptoError.self) { try open(Array(sealed.dropLast()), key: key, ad: ad) }
            #expect(throws: CryptoError.self) { try open(sealed, key: try SecretBytes(randomCount: XChaCha20Poly1305.keyLength), ad: ad) }
        }
        // Authentic but not text: nil, not an error and not a wrong string.
        var notText: [UInt8] = [0xFF, 0xFE, 0x41]
        try Padding.pad(&notText, blockSize: 16)
        #expect(try open(try XChaCha20Poly1305.seal(notText, key: key, associatedData: ad), key: key, ad: ad) == nil)
        // Authentic but not padded (no 0x80 marker), and not whole blocks: refused.
        #expect(throws: CryptoError.self) { try open(try XChaCha20Poly1305.seal([UInt8](repeating: 0, count: 16), key: key, associatedData: ad), key: key, ad: ad) }
        #expect(throws: CryptoError.self) { try open(try XChaCha20Poly1305.seal([UInt8](repeating: 0x80, count: 17), key: key, associatedData: ad), key: key, ad: ad) }
        #expect(throws: CryptoError.self) { try open(try XChaCha20Poly1305.seal([UInt8](), key: key, associatedData: ad), key: key, ad: ad) }
    }
}
