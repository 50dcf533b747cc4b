import Testing
import VaultCrypto

@Suite("SecretBytes and byte helpers")
struct SecretBytesTests {
    @Test("equality compares contents, not identity")
    func equalityByContent() throws {
        let bytes = SecureRandom.bytes(32)
        let a = SecretBytes(copying: bytes)
        let b = SecretBytes(copying: bytes)
        #expect(a !== b)
        #expect(a == b)
        #expect(SecretBytes(copying: []) == SecretBytes(copying: []))
    }

    @Test("a difference at any position, or in length, makes secrets unequal")
    func inequality() throws {
        let bytes = SecureRandom.bytes(32)
        let original = SecretBytes(copying: bytes)
        var detected = 0
        for position in bytes.indices {
            var changed = bytes
            changed[position] ^= 0x80
            if SecretBytes(copying: changed) != original { detected += 1 }
        }
        #expect(detected == bytes.count, "\(detected) of \(bytes.count) single-byte differences detected")
        // Prefixes and extensions: the length check comes first.
        #expect(SecretBytes(copying: bytes.dropLast()) != original)
        #expect(SecretBytes(copying: bytes + [0]) != original)
        #expect(SecretBytes(copying: []) != original)
    }

    @Test("descriptions never show the bytes")
    func redacted() throws {
        let secret = SecretBytes(copying: Array("hunter2-very-secret".utf8))
        let expected = "SecretBytes(19 bytes, redacted)"
        #expect(secret.description == expected)
        #expect(secret.debugDescription == expected)
        #expect("\(secret)" == expected)
        #expect(String(reflecting: secret) == expected)
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(!dumped.contains(hexString(Array("hunter2".utf8))))
        #expect(dumped.contains("redacted"))
        #expect(Mirror(reflecting: secret).children.isEmpty)
    }

    @Test("init(copying:) accepts contiguous and non-contiguous sequences")
    func copying() throws {
        let source = counting(100)
        #expect(bytes(of: SecretBytes(copying: source)) == source)
        #expect(bytes(of: SecretBytes(copying: source[10..<20])) == Array(source[10..<20]))
        #expect(bytes(of: SecretBytes(copying: source.lazy.map { $0 })) == source)
        #expect(bytes(of: SecretBytes(copying: "pässword".utf8)) == Array("pässword".utf8))
        #expect(SecretBytes(copying: []).count == 0)
    }

    @Test("init(count:initializer:) fills in place and rethrows")
    func initializer() throws {
        let secret = SecretBytes(count: 4) { buffer in
            for index in buffer.indices { buffer[index] = UInt8(index + 1) }
        }
        #expect(bytes(of: secret) == [1, 2, 3, 4])

        struct Stop: Error {}
        #expect(throws: Stop.self) {
            _ = try SecretBytes(count: 8) { _ in throw Stop() }
        }
        // Starts zeroed, so a partially filling initializer never exposes old heap contents.
        #expect(bytes(of: SecretBytes(count: 16) { _ in }) == [UInt8](repeating: 0, count: 16))
    }

    @Test("random secrets have the right length and differ")
    func random() throws {
        let a = try SecretBytes(randomCount: 32)
        let b = try SecretBytes(randomCount: 32)
        #expect(a.count == 32)
        #expect(a != b)
        #expect(try SecretBytes(randomCount: 0).count == 0)
        #expect(throws: CryptoError.invalidParameters("")) { _ = try SecretBytes(randomCount: -1) }
    }

    @Test("constantTimeEquals")
    func constantTimeEqualsSemantics() {
        let a = SecureRandom.bytes(16)
        #expect(constantTimeEquals(a, a))
        #expect(constantTimeEquals([], []))
        #expect(!constantTimeEquals(a, Array(a.dropLast())))
        var detected = 0
        for position in a.indices {
            var changed = a
            changed[position] &+= 1
            if !constantTimeEquals(a, changed) { detected += 1 }
        }
        #expect(detected == a.count)
    }

    @Test("wipe zeroes the array and keeps its count")
    func wipeZeroes() {
        var buffer = SecureRandom.bytes(64)
        #expect(buffer.contains { $0 != 0 })
        wipe(&buffer)
        #expect(buffer.count == 64)
        #expect(buffer.allSatisfy { $0 == 0 })

        var withSpareCapacity = SecureRandom.bytes(64)
        withSpareCapacity.removeLast(32)
        wipe(&withSpareCapacity)
        #expect(withSpareCapacity == [UInt8](repeating: 0, count: 32))

        var empty: [UInt8] = []
        wipe(&empty)
        #expect(empty.isEmpty)
    }

    @Test("SecureRandom")
    func secureRandom() {
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect(SecureRandom.bytes(-5).isEmpty)
        #expect(SecureRandom.bytes(24).count == 24)
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
        var seen = Set<UInt32>()
        for _ in 0..<1_000 {
            let value = SecureRandom.uniform(10)
            #expect(value < 10)
            seen.insert(value)
        }
        // 1000 draws from 10 values miss one with probability ~10 * 0.9^1000: never.
        #expect(seen.count == 10)
        #expect(SecureRandom.uniform(1) == 0)
        #expect(SecureRandom.uniform(0) == 0)
    }

    @Test("CryptoError equality is on code only and descriptions carry the detail")
    func errors() {
        #expect(CryptoError.invalidParameters("a") == CryptoError.invalidParameters("b"))
        #expect(CryptoError.authenticationFailed() != CryptoError.invalidParameters("authentication failed"))
        #expect(CryptoError.libraryFailure(function: "crypto_pwhash").detail == "crypto_pwhash failed")
        #expect(CryptoError.invalidLength(expected: 32, actual: 16, what: "key").description.contains("key"))
        #expect(CryptoError.outOfMemory(function: "crypto_pwhash").code == .outOfMemory)
        #expect(throws: Never.self) { try Sodium.initialize() }
    }
}
