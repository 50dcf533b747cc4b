import CSodium

/// ISO/IEC 7816-4 padding (`sodium_pad` / `sodium_unpad`): hides a plaintext's exact length
/// inside a block of `blockSize` bytes before it is sealed.
public enum Padding {
    /// Pads `bytes` in place to the next multiple of `blockSize` (always adding at least one byte).
    ///
    /// - Throws: ``CryptoError`` `.invalidParameters` for a block size of 0, `.libraryFailure` otherwise.
    public static func pad(_ bytes: inout [UInt8], blockSize: Int) throws {
        try Sodium.initialize()
        guard blockSize > 0 else { throw CryptoError.invalidParameters("padding block size must be positive") }
        let unpadded = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: blockSize))
        var padded = 0
        let rc = withMutableBytes(of: &bytes) { pointer, capacity in
            sodium_pad(&padded, pointer, unpadded, blockSize, capacity)
        }
        guard rc == 0 else { throw CryptoError.libraryFailure(function: "sodium_pad") }
        bytes.removeLast(bytes.count - padded)
    }

    /// Removes padding added by ``pad(_:blockSize:)``.
    ///
    /// - Throws: ``CryptoError`` `.authenticationFailed` when the padding is malformed (only ever
    ///   reached for data that already passed authentication, so it means a writer bug or forgery).
    public static func unpad(_ bytes: inout [UInt8], blockSize: Int) throws {
        try Sodium.initialize()
        guard blockSize > 0 else { throw CryptoError.invalidParameters("padding block size must be positive") }
        // `sodium_unpad` only looks at the last block; a padded value is always whole blocks
        // (found by the `envelope` fuzz target).
        guard bytes.count % blockSize == 0 else { throw CryptoError.authenticationFailed() }
        var unpadded = 0
        let count = bytes.count
        let rc = withMutableBytes(of: &bytes) { pointer, _ in
            sodium_unpad(&unpadded, pointer, count, blockSize)
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed() }
        // Wipe the padding bytes before dropping them (they hold no secret, but keep the habit uniform).
        for index in unpadded..<bytes.count { bytes[index] = 0 }
        bytes.removeLast(bytes.count - unpadded)
    }
}
