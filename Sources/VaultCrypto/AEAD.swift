import CSodium

/// XChaCha20-Poly1305 (IETF construction) authenticated encryption with associated data.
///
/// The 192-bit nonce is random and stored in front of the ciphertext, so a sealed value is
/// self-contained: `nonce ‖ ciphertext ‖ tag`. Random nonces of this size are safe for a very large
/// number of messages per key. Put whatever binds the value to its place (record id, field name,
/// key version) in the associated data, so a ciphertext moved to another slot fails to open.
///
/// ```swift
/// let box = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: Array("customer/42/email".utf8))
/// let back = try XChaCha20Poly1305.open(box, key: key, associatedData: Array("customer/42/email".utf8))
/// ```
public enum XChaCha20Poly1305 {
    /// Key length in bytes (`crypto_aead_xchacha20poly1305_ietf_KEYBYTES`).
    public static let keyLength = 32
    /// Nonce length in bytes (`crypto_aead_xchacha20poly1305_ietf_NPUBBYTES`).
    public static let nonceLength = 24
    /// Authentication tag length in bytes (`crypto_aead_xchacha20poly1305_ietf_ABYTES`).
    public static let tagLength = 16

    /// Encrypts and authenticates `plaintext`, returning `nonce ‖ ciphertext ‖ tag`.
    ///
    /// - Parameters:
    ///   - plaintext: The bytes to encrypt.
    ///   - key: A 32-byte key.
    ///   - associatedData: Authenticated but not encrypted context (for example the record id).
    ///   - nonce: Leave `nil` (a fresh random nonce is drawn). A fixed nonce exists only for
    ///     known-answer tests: reusing a nonce with the same key destroys confidentiality.
    /// - Returns: `nonceLength + plaintext.count + tagLength` bytes.
    /// - Throws: ``CryptoError/Code/invalidLength`` for a wrong key or nonce length;
    ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
    public static func seal(
        _ plaintext: some Collection<UInt8>,
        key: SecretBytes,
        associatedData: [UInt8],
        nonce: [UInt8]? = nil
    ) throws -> [UInt8] {
        try Sodium.initialize()
        try requireLength(key.count, keyLength, "key")
        let nonce = nonce ?? SecureRandom.nonce(nonceLength)
        try requireLength(nonce.count, nonceLength, "nonce")

        return try withBytes(of: plaintext) { message, messageLength in
            var combined = [UInt8](repeating: 0, count: nonceLength + messageLength + tagLength)
            try withMutableBytes(of: &combined) { output, _ in
                withBytes(of: nonce) { noncePointer, _ in
                    output.update(from: noncePointer, count: nonceLength)
                }
                var ciphertextLength: UInt64 = 0
                let status = withBytes(of: associatedData) { ad, adLength in
                    withBytes(of: nonce) { noncePointer, _ in
                        key.withBytePointer { keyPointer, _ in
                            crypto_aead_xchacha20poly1305_ietf_encrypt(
                                output + nonceLength, &ciphertextLength,
                                message, UInt64(messageLength),
                                ad, UInt64(adLength),
                                nil, noncePointer, keyPointer
                            )
                        }
                    }
                }
                try check(status, "crypto_aead_xchacha20poly1305_ietf_encrypt")
                guard ciphertextLength == UInt64(messageLength + tagLength) else {
                    throw CryptoError.libraryFailure(function: "crypto_aead_xchacha20poly1305_ietf_encrypt")
                }
            }
            return combined
        }
    }

    /// Verifies and decrypts `nonce ‖ ciphertext ‖ tag`, returning the plaintext.
    ///
    /// Every failure caused by the input (too short, modified, wrong key, wrong associated data)
    /// is the same ``CryptoError/Code/authenticationFailed``: coarse on purpose, so the error is
    /// no oracle. Prefer ``openSecret(_:key:associatedData:)`` when the plaintext is a secret.
    /// - Throws: ``CryptoError/Code/authenticationFailed``; ``CryptoError/Code/invalidLength`` for a
    ///   key of the wrong length (a programming error, not an input error).
    public static func open(
        _ combined: some Collection<UInt8>,
        key: SecretBytes,
        associatedData: [UInt8]
    ) throws -> [UInt8] {
        try Sodium.initialize()
        try requireLength(key.count, keyLength, "key")
        return try withBytes(of: combined) { input, inputLength in
            guard inputLength >= nonceLength + tagLength else {
                throw CryptoError.authenticationFailed()
            }
            var plaintext = [UInt8](repeating: 0, count: inputLength - nonceLength - tagLength)
            do {
                try withMutableBytes(of: &plaintext) { output, _ in
                    try decrypt(into: output, input: input, inputLength: inputLength, key: key, associatedData: associatedData)
                }
            } catch {
                wipe(&plaintext)
                throw error
            }
            return plaintext
        }
    }

    /// Verifies and decrypts `nonce ‖ ciphertext ‖ tag` straight into ``SecretBytes``.
    ///
    /// Use this for wrapped keys and other secrets, so the plaintext never sits in an unwiped array.
    /// - Throws: ``CryptoError/Code/authenticationFailed`` for any input problem;
    ///   ``CryptoError/Code/invalidLength`` for a key of the wrong length.
    public static func openSecret(
        _ combined: some Collection<UInt8>,
        key: SecretBytes,
        associatedData: [UInt8]
    ) throws -> SecretBytes {
        try Sodium.initialize()
        try requireLength(key.count, keyLength, "key")
        return try withBytes(of: combined) { input, inputLength in
            guard inputLength >= nonceLength + tagLength else {
                throw CryptoError.authenticationFailed()
            }
            return try SecretBytes(count: inputLength - nonceLength - tagLength, filling: { output, _ in
                try decrypt(into: output, input: input, inputLength: inputLength, key: key, associatedData: associatedData)
            })
        }
    }

    /// Decrypts `input` (already checked to be at least nonce + tag long) into `output`.
    private static func decrypt(
        into output: UnsafeMutablePointer<UInt8>,
        input: UnsafePointer<UInt8>,
        inputLength: Int,
        key: SecretBytes,
        associatedData: [UInt8]
    ) throws {
        var plaintextLength: UInt64 = 0
        let status = withBytes(of: associatedData) { ad, adLength in
            key.withBytePointer { keyPointer, _ in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    output, &plaintextLength, nil,
                    input + nonceLength, UInt64(inputLength - nonceLength),
                    ad, UInt64(adLength),
                    input, keyPointer
                )
            }
        }
        guard status == 0 else {
            throw CryptoError.authenticationFailed()
        }
        guard plaintextLength == UInt64(inputLength - nonceLength - tagLength) else {
            throw CryptoError.libraryFailure(function: "crypto_aead_xchacha20poly1305_ietf_decrypt")
        }
    }
}
