import CSodium

/// Argon2id (v1.3) password-based key derivation (`crypto_pwhash` with `crypto_pwhash_ALG_ARGON2ID13`).
///
/// Store the ``Parameters`` and the salt next to whatever the derived key protects; when reading
/// them back from a file, ``deriveKey(length:passphrase:salt:parameters:)`` refuses parameters
/// below ``Parameters/interactive`` (too weak) or above ``Parameters/maximumAccepted`` (a forged
/// file could otherwise make the reader allocate without bound).
///
/// ```swift
/// let salt = SecureRandom.bytes(Argon2id.saltLength)
/// let kek = try Argon2id.deriveKey(length: 32, passphrase: passphrase, salt: salt, parameters: .moderate)
/// ```
public enum Argon2id {
    /// Argon2id cost parameters: passes over memory and memory size in bytes.
    public struct Parameters: Equatable, Sendable, Codable {
        /// Number of passes (Argon2 `t`).
        public var opsLimit: UInt64
        /// Memory to use, in bytes (Argon2 `m` × 1024).
        public var memLimit: UInt64

        /// Creates parameters; nothing is validated until they are used.
        public init(opsLimit: UInt64, memLimit: UInt64) {
            self.opsLimit = opsLimit
            self.memLimit = memLimit
        }

        /// libsodium's INTERACTIVE preset: 2 passes, 64 MiB. The weakest accepted.
        public static let interactive = Parameters(opsLimit: 2, memLimit: 64 << 20)
        /// libsodium's MODERATE preset: 3 passes, 256 MiB.
        public static let moderate = Parameters(opsLimit: 3, memLimit: 256 << 20)
        /// libsodium's SENSITIVE preset: 4 passes, 1 GiB.
        public static let sensitive = Parameters(opsLimit: 4, memLimit: 1 << 30)
        /// The largest parameters accepted when reading a file: 16 passes, 1 GiB.
        public static let maximumAccepted = Parameters(opsLimit: 16, memLimit: 1 << 30)

        /// Whether both limits are at least ``interactive`` and at most ``maximumAccepted``.
        public var isWithinAcceptedRange: Bool {
            (Self.interactive.opsLimit...Self.maximumAccepted.opsLimit).contains(opsLimit)
                && (Self.interactive.memLimit...Self.maximumAccepted.memLimit).contains(memLimit)
        }
    }

    /// Salt length in bytes (`crypto_pwhash_SALTBYTES`).
    public static let saltLength = 16

    /// Derives a `length`-byte key from a passphrase.
    ///
    /// - Parameters:
    ///   - length: Output length in bytes, at least 16.
    ///   - passphrase: The passphrase bytes (typically UTF-8).
    ///   - salt: ``saltLength`` random bytes stored with the result.
    ///   - parameters: Cost parameters; must satisfy ``Parameters/isWithinAcceptedRange``.
    /// - Returns: The derived key, written straight into wiped memory.
    /// - Throws: ``CryptoError/Code/invalidParameters`` when the parameters are out of the accepted
    ///   range or the salt length is wrong; ``CryptoError/Code/invalidLength`` for an output length
    ///   libsodium does not support; ``CryptoError/Code/outOfMemory`` when the memory cannot be had.
    public static func deriveKey(
        length: Int,
        passphrase: SecretBytes,
        salt: [UInt8],
        parameters: Parameters
    ) throws -> SecretBytes {
        try Sodium.initialize()
        guard parameters.isWithinAcceptedRange else {
            throw CryptoError.invalidParameters(
                "Argon2id parameters outside the accepted range (opsLimit \(parameters.opsLimit), memLimit \(parameters.memLimit))"
            )
        }
        guard salt.count == saltLength else {
            throw CryptoError.invalidParameters("Argon2id salt must be \(saltLength) bytes, got \(salt.count)")
        }
        return try deriveKeyUnchecked(
            length: length,
            passphrase: passphrase,
            salt: salt,
            opsLimit: parameters.opsLimit,
            memLimit: parameters.memLimit
        )
    }

    /// Derives a key with any parameters libsodium itself accepts, skipping the vault's policy range.
    ///
    /// Exists so known-answer tests can use the small published parameters; production code uses
    /// ``deriveKey(length:passphrase:salt:parameters:)``.
    /// - Throws: ``CryptoError/Code/invalidParameters`` for a salt of the wrong length or limits
    ///   outside libsodium's bounds; ``CryptoError/Code/invalidLength`` for an unsupported output or
    ///   passphrase length; ``CryptoError/Code/outOfMemory`` when `crypto_pwhash` fails anyway.
    @_spi(KnownAnswerTests)
    public static func deriveKeyUnchecked(
        length: Int,
        passphrase: SecretBytes,
        salt: [UInt8],
        opsLimit: UInt64,
        memLimit: UInt64
    ) throws -> SecretBytes {
        try Sodium.initialize()
        guard salt.count == saltLength else {
            throw CryptoError.invalidParameters("Argon2id salt must be \(saltLength) bytes, got \(salt.count)")
        }
        let outputRange = Int(crypto_pwhash_argon2id_bytes_min())...Int(clamping: crypto_pwhash_argon2id_bytes_max())
        try requireLength(length, in: outputRange, "Argon2id output")
        let passphraseRange = Int(crypto_pwhash_argon2id_passwd_min())...Int(clamping: crypto_pwhash_argon2id_passwd_max())
        try requireLength(passphrase.count, in: passphraseRange, "Argon2id passphrase")
        guard opsLimit >= UInt64(crypto_pwhash_argon2id_opslimit_min()),
              opsLimit <= UInt64(crypto_pwhash_argon2id_opslimit_max()),
              memLimit >= UInt64(crypto_pwhash_argon2id_memlimit_min()),
              memLimit <= UInt64(crypto_pwhash_argon2id_memlimit_max()),
              let memoryBytes = Int(exactly: memLimit)
        else {
            throw CryptoError.invalidParameters("Argon2id limits outside libsodium's bounds")
        }

        // Every argument is now valid, so a failure can only be the allocation of memLimit bytes.
        return try SecretBytes(count: length, filling: { output, outputLength in
            let status = passphrase.withBytePointer { passphrasePointer, passphraseLength in
                UnsafeRawPointer(passphrasePointer).withMemoryRebound(to: CChar.self, capacity: max(passphraseLength, 1)) { passwd in
                    withBytes(of: salt) { saltPointer, _ in
                        crypto_pwhash(
                            output, UInt64(outputLength),
                            passwd, UInt64(passphraseLength),
                            saltPointer, opsLimit, memoryBytes,
                            crypto_pwhash_alg_argon2id13()
                        )
                    }
                }
            }
            guard status == 0 else {
                throw CryptoError.outOfMemory(function: "crypto_pwhash")
            }
        })
    }
}
