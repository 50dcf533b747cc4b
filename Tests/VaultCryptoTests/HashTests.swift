import Testing
import VaultCrypto

@Suite("BLAKE2b behaviour")
struct HashTests {
    @Test("streaming in any split equals one-shot, keyed and unkeyed")
    func streamingMatchesOneShot() throws {
        let input = SecureRandom.bytes(1_000)
        let key = try SecretBytes(randomCount: 32)
        for hashKey in [nil, key] as [SecretBytes?] {
            let expected = try BLAKE2b.hash(input, key: hashKey, outputLength: 48)
            for split in [0, 1, 127, 128, 129, 500, 999, 1_000] {
                let hasher = try BLAKE2b.Hasher(key: hashKey, outputLength: 48)
                hasher.update(input[..<split])
                hasher.update(input[split...])
                #expect(try hasher.finalize() == expected, "split at \(split)")
            }
        }
    }

    @Test("keyed and unkeyed hashes differ, and so do different keys")
    func keyMatters() throws {
        let input = Array("alice@example.com".utf8)
        let a = try BLAKE2b.hash(input, key: try SecretBytes(randomCount: 32))
        let b = try BLAKE2b.hash(input, key: try SecretBytes(randomCount: 32))
        let plain = try BLAKE2b.hash(input)
        #expect(plain.count == 32)
        #expect(a != b)
        #expect(a != plain)
    }

    @Test("output and key lengths outside 16...64 are rejected", arguments: [0, 15, 65, 128])
    func lengthLimits(length: Int) throws {
        #expect(throws: CryptoError.invalidLength(expected: 16...64, actual: length, what: "output")) {
            _ = try BLAKE2b.hash([1, 2, 3], outputLength: length)
        }
        #expect(errorCode { _ = try BLAKE2b.Hasher(outputLength: length) } == .invalidLength)
        let badKey = SecretBytes(copying: [UInt8](repeating: 7, count: length))
        #expect(errorCode { _ = try BLAKE2b.hash([1, 2, 3], key: badKey) } == .invalidLength)
        #expect(errorCode { _ = try BLAKE2b.Hasher(key: badKey) } == .invalidLength)
    }

    @Test("a hasher cannot be finalised twice or updated after finalising")
    func hasherMisuse() throws {
        let hasher = try BLAKE2b.Hasher()
        hasher.update([1, 2, 3])
        _ = try hasher.finalize()
        #expect(throws: CryptoError.invalidParameters("")) { _ = try hasher.finalize() }

        let other = try BLAKE2b.Hasher()
        _ = try other.finalize()
        other.update([4])
        #expect(throws: CryptoError.invalidParameters("")) { _ = try other.finalize() }
    }
}
