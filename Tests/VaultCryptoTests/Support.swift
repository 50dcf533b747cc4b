import Testing
import VaultCrypto

/// A malformed hex string in a test vector.
struct HexError: Error, CustomStringConvertible {
    let description: String
}

/// Decodes hex, ignoring whitespace and newlines so long vectors can be wrapped as published.
func hex(_ string: String) throws -> [UInt8] {
    let digits = string.filter { !$0.isWhitespace }
    guard digits.count.isMultiple(of: 2) else { throw HexError(description: "odd number of hex digits") }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        guard let byte = UInt8(digits[index..<next], radix: 16) else {
            throw HexError(description: "bad hex digits \(digits[index..<next])")
        }
        bytes.append(byte)
        index = next
    }
    return bytes
}

/// Lower-case hex, for readable failure messages on public values.
func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined()
}

/// Copies a secret out for comparison with a published vector (tests only).
func bytes(of secret: SecretBytes) -> [UInt8] {
    secret.withUnsafeBytes { Array($0) }
}

/// The bytes 0, 1, 2, ... count-1 (the BLAKE2 and KDF test vectors' keys and inputs).
func counting(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0) }
}

/// Runs `body` and returns the CryptoError code it threw, or nil when it did not throw one.
func errorCode(_ body: () throws -> Void) -> CryptoError.Code? {
    do {
        try body()
        return nil
    } catch let error as CryptoError {
        return error.code
    } catch {
        return nil
    }
}

/// Every single-bit modification of `bytes`: (description, modified copy).
func everyBitFlip(of bytes: [UInt8]) -> [(offset: Int, bit: Int, bytes: [UInt8])] {
    var result: [(offset: Int, bit: Int, bytes: [UInt8])] = []
    for offset in bytes.indices {
        for bit in 0..<8 {
            var copy = bytes
            copy[offset] ^= UInt8(1) << UInt8(bit)
            result.append((offset, bit, copy))
        }
    }
    return result
}
