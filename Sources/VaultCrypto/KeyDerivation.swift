import CSodium

/// Derives independent subkeys from one master key (`crypto_kdf`, BLAKE2b-based).
///
/// Each (`id`, `context`) pair gives an unrelated key; knowing subkeys reveals nothing about the
/// master key or other subkeys. Use the context to separate purposes and the id to number keys
/// within a purpose.
///
/// ```swift
/// let indexKey = try SubkeyDerivation.derive(length: 32, id: 1, context: "blindidx", from: master)
/// ```
public enum SubkeyDerivation {
    /// Master key length in bytes (`crypto_kdf_KEYBYTES`).
    static let masterKeyLength = 32
    /// Accepted subkey lengths (`crypto_kdf_BYTES_MIN...BYTES_MAX`).
    static let subkeyLengths = 16...64
    /// Context length in bytes (`crypto_kdf_CONTEXTBYTES`).
    static let contextLength = 8

    /// Derives subkey number `id` for `context` from `master`.
    /// - Parameters:
    ///   - length: Subkey length, 16...64 bytes.
    ///   - id: Subkey number within the context.
    ///   - context: Exactly 8 ASCII characters naming the purpose, for example `"blindidx"`.
    ///   - master: A 32-byte master key.
    /// - Returns: The subkey, written straight into wiped memory.
    /// - Throws: ``CryptoError/Code/invalidLength`` for a wrong master or subkey length;
    ///   ``CryptoError/Code/invalidParameters`` when the context is not 8 ASCII bytes;
    ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
    public static func derive(length: Int, id: UInt64, context: String, from master: SecretBytes) throws -> SecretBytes {
        try Sodium.initialize()
        try requireLength(length, in: subkeyLengths, "subkey")
        try requireLength(master.count, masterKeyLength, "master key")
        let contextBytes = Array(context.utf8)
        guard contextBytes.count == contextLength, contextBytes.allSatisfy({ $0 < 0x80 }) else {
            throw CryptoError.invalidParameters("KDF context must be exactly \(contextLength) ASCII characters")
        }
        return try SecretBytes(count: length, filling: { output, outputLength in
            let status = master.withBytePointer { masterPointer, _ in
                withBytes(of: contextBytes) { contextPointer, _ in
                    // libsodium reads exactly 8 bytes of context; no terminating NUL is needed.
                    UnsafeRawPointer(contextPointer).withMemoryRebound(to: CChar.self, capacity: contextLength) { ctx in
                        crypto_kdf_derive_from_key(output, outputLength, id, ctx, masterPointer)
                    }
                }
            }
            try check(status, "crypto_kdf_derive_from_key")
        })
    }
}
