import Testing
import VaultCrypto

@Suite("Padding")
struct PaddingTests {
    @Test("padding rounds every length up to the next block and round-trips")
    func roundTrip() throws {
        for length in 0...70 {
            let original = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
            var bytes = original
            try Padding.pad(&bytes, blockSize: 16)
            #expect(bytes.count == (length / 16 + 1) * 16, "length \(length)")
            try Padding.unpad(&bytes, blockSize: 16)
            #expect(bytes == original)
        }
    }

    @Test("malformed padding is refused")
    func malformed() {
        var noMarker = [UInt8](repeating: 0, count: 16)
        #expect(throws: CryptoError.authenticationFailed()) { try Padding.unpad(&noMarker, blockSize: 16) }
        var empty: [UInt8] = []
        #expect(throws: CryptoError.self) { try Padding.unpad(&empty, blockSize: 16) }
        // Valid-looking padding in the last block of a buffer that is not whole blocks (fuzz find).
        var partial = Array("Zo".utf8) + [0x80] + [UInt8](repeating: 0, count: 20)
        #expect(throws: CryptoError.authenticationFailed()) { try Padding.unpad(&partial, blockSize: 16) }
    }
}
