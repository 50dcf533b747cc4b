import CSodium

/// BLAKE2b hashing and keyed hashing (`crypto_generichash`).
///
/// Keyed, it is a MAC / PRF: the vault's blind indexes are keyed BLAKE2b of normalised values.
///
/// ```swift
/// let index = try BLAKE2b.hash(Array(email.utf8), key: indexKey, outputLength: 16)
/// ```
public enum BLAKE2b {
    /// Accepted output lengths in bytes (`crypto_generichash_BYTES_MIN...BYTES_MAX`).
    static let outputLengths = 16...64
    /// Accepted key lengths in bytes (`crypto_generichash_KEYBYTES_MIN...KEYBYTES_MAX`).
    static let keyLengths = 16...64

    /// Hashes `input` in one call.
    /// - Parameters:
    ///   - input: The bytes to hash.
    ///   - key: `nil` for a plain hash, or a 16...64-byte key for a keyed hash (MAC).
    ///   - outputLength: Digest length, 16...64 bytes.
    /// - Throws: ``CryptoError/Code/invalidLength`` for a key or output length out of range;
    ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
    public static func hash(
        _ input: some Collection<UInt8>,
        key: SecretBytes? = nil,
        outputLength: Int = 32
    ) throws -> [UInt8] {
        try Sodium.initialize()
        try validate(key: key, outputLength: outputLength)
        var digest = [UInt8](repeating: 0, count: outputLength)
        let status = withMutableBytes(of: &digest) { output, outputCount in
            withBytes(of: input) { inputPointer, inputLength in
                withKey(key) { keyPointer, keyLength in
                    crypto_generichash(output, outputCount, inputPointer, UInt64(inputLength), keyPointer, keyLength)
                }
            }
        }
        try check(status, "crypto_generichash")
        return digest
    }

    /// Checks the key and output lengths shared by the one-shot and streaming APIs.
    static func validate(key: SecretBytes?, outputLength: Int) throws {
        try requireLength(outputLength, in: outputLengths, "BLAKE2b output")
        if let key {
            try requireLength(key.count, in: keyLengths, "BLAKE2b key")
        }
    }

    /// Calls `body` with the key's pointer and length, or NULL and 0 for an unkeyed hash.
    static func withKey<R>(_ key: SecretBytes?, _ body: (UnsafePointer<UInt8>?, Int) -> R) -> R {
        guard let key else { return body(nil, 0) }
        return key.withBytePointer { body($0, $1) }
    }
}

// MARK: - Streaming

extension BLAKE2b {
    /// Incremental BLAKE2b over data that arrives in pieces (`crypto_generichash_state`).
    ///
    /// Feeding the same bytes in any split gives the same digest as ``BLAKE2b/hash(_:key:outputLength:)``.
    /// Not `Sendable`: it is mutable state meant for one task. The state, which holds key-derived
    /// material when keyed, is wiped when finalised and when released.
    public final class Hasher {
        /// `crypto_generichash_state` is declared `CRYPTO_ALIGN(64)`, which Swift imports as an opaque
        /// pointer, so the state is a raw allocation of `crypto_generichash_statebytes()` aligned to 64.
        private let state: UnsafeMutableRawPointer
        private let stateSize: Int
        private let outputLength: Int
        private var isFinalized = false
        /// A misuse or failure seen by `update`, which cannot throw; `finalize` reports it.
        private var pendingError: CryptoError?

        /// Starts a hash, keyed when `key` is given.
        /// - Throws: ``CryptoError/Code/invalidLength`` for a key or output length out of range;
        ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
        public init(key: SecretBytes? = nil, outputLength: Int = 32) throws {
            try Sodium.initialize()
            try BLAKE2b.validate(key: key, outputLength: outputLength)
            let stateSize = crypto_generichash_statebytes()
            let state = UnsafeMutableRawPointer.allocate(byteCount: stateSize, alignment: 64)
            state.initializeMemory(as: UInt8.self, repeating: 0, count: stateSize)
            let status = BLAKE2b.withKey(key) { keyPointer, keyLength in
                crypto_generichash_init(OpaquePointer(state), keyPointer, keyLength, outputLength)
            }
            guard status == 0 else {
                sodium_memzero(state, stateSize)
                state.deallocate()
                throw CryptoError.libraryFailure(function: "crypto_generichash_init")
            }
            self.state = state
            self.stateSize = stateSize
            self.outputLength = outputLength
        }

        deinit {
            sodium_memzero(state, stateSize)
            state.deallocate()
        }

        /// Absorbs more input.
        ///
        /// `update` cannot throw: a failure, or a call after ``finalize()``, is remembered and
        /// reported by the next ``finalize()``.
        public func update(_ bytes: some Collection<UInt8>) {
            guard pendingError == nil else { return }
            guard !isFinalized else {
                pendingError = .invalidParameters("BLAKE2b.Hasher.update called after finalize")
                return
            }
            let status = withBytes(of: bytes) { pointer, count in
                crypto_generichash_update(OpaquePointer(state), pointer, UInt64(count))
            }
            if status != 0 {
                pendingError = .libraryFailure(function: "crypto_generichash_update")
            }
        }

        /// Returns the digest; the hasher cannot be used afterwards.
        /// - Throws: ``CryptoError/Code/invalidParameters`` when called twice or after an
        ///   ``update(_:)`` that followed finalisation; ``CryptoError/Code/libraryFailure`` if
        ///   libsodium failed here or in an earlier ``update(_:)``.
        public func finalize() throws -> [UInt8] {
            if let pendingError {
                throw pendingError
            }
            guard !isFinalized else {
                throw CryptoError.invalidParameters("BLAKE2b.Hasher.finalize called twice")
            }
            isFinalized = true
            // The state holds key-derived material when keyed; it is no longer needed.
            defer { sodium_memzero(state, stateSize) }
            var digest = [UInt8](repeating: 0, count: outputLength)
            let status = withMutableBytes(of: &digest) { output, count in
                crypto_generichash_final(OpaquePointer(state), output, count)
            }
            try check(status, "crypto_generichash_final")
            return digest
        }
    }
}
