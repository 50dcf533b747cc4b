import CSodium

extension XChaCha20Poly1305 {
    /// Pads and seals a short text into one new array, `prefix ‖ nonce ‖ ciphertext ‖ tag`.
    ///
    /// The hot path of sealing field values (an import seals about ten a record): the message is
    /// written, padded (ISO/IEC 7816-4, as ``Padding/pad(_:blockSize:)`` pads), where its ciphertext
    /// goes and encrypted in place, which libsodium's AEAD allows when message and ciphertext start
    /// at the same address. One allocation a value instead of seven, and no plaintext copy left
    /// behind to wipe.
    ///
    /// - Parameters:
    ///   - message: The bytes to seal (unpadded).
    ///   - paddingBlock: The padding block size; at least one byte of padding is always added.
    ///   - prefix: Bytes put in front of the nonce, unencrypted and unauthenticated unless the
    ///     caller also puts them in `associatedData` (an envelope's header).
    ///   - key: A 32-byte key.
    ///   - associatedData: Authenticated context.
    /// - Returns: `prefix.count + nonceLength + padded length + tagLength` bytes.
    /// - Throws: ``CryptoError/Code/invalidLength`` for a wrong key length,
    ///   ``CryptoError/Code/invalidParameters`` for a block size below 1,
    ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
    public static func sealPadded(
        _ message: String.UTF8View,
        paddingBlock: Int,
        prefix: [UInt8],
        key: SecretBytes,
        associatedData: UnsafeRawBufferPointer
    ) throws -> [UInt8] {
        try Sodium.initialize()
        try requireLength(key.count, keyLength, "key")
        guard paddingBlock > 0 else { throw CryptoError.invalidParameters("padding block size must be positive") }
        let unpadded = message.count
        let padded = (unpadded / paddingBlock + 1) * paddingBlock
        let start = prefix.count + nonceLength
        let total = start + padded + tagLength
        return try [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            guard let base = buffer.baseAddress else { throw CryptoError.libraryFailure(function: "sealPadded") }
            buffer.initialize(repeating: 0)
            _ = prefix.withUnsafeBufferPointer { UnsafeMutableBufferPointer(rebasing: buffer[0..<prefix.count]).update(fromContentsOf: $0) }
            SecureRandom.fillNonce(UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[prefix.count..<start]))
            let copied = UnsafeMutableBufferPointer(rebasing: buffer[start..<(start + unpadded)]).initialize(from: message).1
            guard copied == unpadded else { throw CryptoError.libraryFailure(function: "sealPadded") }
            // ISO/IEC 7816-4: 0x80 after the message, zeros to the block's end (already zero), as
            // `sodium_pad` writes it (PaddedSealTests compares the two).
            base[start + unpadded] = 0x80
            var ciphertextLength: UInt64 = 0
            let status = key.withBytePointer { keyPointer, _ in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    base + start, &ciphertextLength, base + start, UInt64(padded),
                    associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                    nil, base + prefix.count, keyPointer)
            }
            try check(status, "crypto_aead_xchacha20poly1305_ietf_encrypt")
            guard ciphertextLength == UInt64(padded + tagLength) else {
                throw CryptoError.libraryFailure(function: "crypto_aead_xchacha20poly1305_ietf_encrypt")
            }
            initialized = total
        }
    }
}

extension XChaCha20Poly1305 {
    /// Opens `nonce ‖ ciphertext ‖ tag` sealed by ``sealPadded(_:paddingBlock:prefix:key:associatedData:)``
    /// and returns the unpadded text, decrypting into a scratch buffer that is wiped before it
    /// returns (no plaintext array is left to the allocator).
    ///
    /// - Returns: The text; nil when the value authenticates but is not UTF-8.
    /// - Throws: ``CryptoError/Code/authenticationFailed`` for any problem of the input (too short,
    ///   not whole padding blocks, modified, wrong key or associated data, malformed padding);
    ///   ``CryptoError/Code/invalidLength`` for a key of the wrong length.
    public static func openPaddedText(
        _ combined: ArraySlice<UInt8>,
        paddingBlock: Int,
        key: SecretBytes,
        associatedData: UnsafeRawBufferPointer
    ) throws -> String? {
        try Sodium.initialize()
        try requireLength(key.count, keyLength, "key")
        guard paddingBlock > 0 else { throw CryptoError.invalidParameters("padding block size must be positive") }
        return try combined.withUnsafeBufferPointer { input in
            guard let base = input.baseAddress, input.count >= nonceLength + tagLength else { throw CryptoError.authenticationFailed() }
            let length = input.count - nonceLength - tagLength
            // Padding always fills whole blocks (see `Padding.unpad`, which refuses the rest too).
            guard length % paddingBlock == 0 else { throw CryptoError.authenticationFailed() }
            return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(length, 1)) { plain in
                guard let output = plain.baseAddress else { throw CryptoError.libraryFailure(function: "openPaddedText") }
                defer { sodium_memzero(output, plain.count) }
                var plaintextLength: UInt64 = 0
                let status = key.withBytePointer { keyPointer, _ in
                    crypto_aead_xchacha20poly1305_ietf_decrypt(
                        output, &plaintextLength, nil,
                        base + nonceLength, UInt64(input.count - nonceLength),
                        associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                        base, keyPointer)
                }
                guard status == 0, plaintextLength == UInt64(length) else { throw CryptoError.authenticationFailed() }
                var unpadded = 0
                guard sodium_unpad(&unpadded, output, length, paddingBlock) == 0 else { throw CryptoError.authenticationFailed() }
                return String(validating: UnsafeBufferPointer(start: output, count: unpadded), as: UTF8.self)
            }
        }
    }
}
