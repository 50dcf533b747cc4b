import CSodium

/// Anonymous public-key encryption to an X25519 key (`crypto_box_seal`).
///
/// Anyone with the public key can seal; only the holder of the secret key can open, and the
/// sender stays anonymous (an ephemeral key pair is used per message). The result is
/// `ephemeral public key ‖ ciphertext ‖ tag`, ``sealOverhead`` bytes longer than the message.
///
/// ```swift
/// let recipient = try SealedBox.KeyPair.generate()
/// let sealed = try SealedBox.seal(dataKeyBytes, to: recipient.publicKey)
/// let dataKey = try SealedBox.open(sealed, with: recipient)
/// ```
public enum SealedBox {
    /// An X25519 key pair.
    public struct KeyPair: Sendable {
        /// The 32-byte public key, safe to share.
        public let publicKey: [UInt8]
        /// The 32-byte secret scalar.
        public let secretKey: SecretBytes

        /// Generates a fresh key pair (`crypto_box_keypair`).
        /// - Throws: ``CryptoError/Code/libraryFailure`` if libsodium fails.
        public static func generate() throws -> KeyPair {
            try Sodium.initialize()
            var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
            let secretKey = try SecretBytes(count: secretKeyLength, filling: { secret, _ in
                let status = withMutableBytes(of: &publicKey) { pk, _ in crypto_box_keypair(pk, secret) }
                try check(status, "crypto_box_keypair")
            })
            return KeyPair(publicKey: publicKey, secretKey: secretKey)
        }

        /// Rebuilds a key pair from its 32-byte secret key (public key by `crypto_scalarmult_base`).
        /// - Throws: ``CryptoError/Code/invalidLength`` for a secret key that is not 32 bytes;
        ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
        public init(secretKey: SecretBytes) throws {
            try Sodium.initialize()
            try requireLength(secretKey.count, secretKeyLength, "X25519 secret key")
            var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
            let status = withMutableBytes(of: &publicKey) { pk, _ in
                secretKey.withBytePointer { sk, _ in crypto_scalarmult_base(pk, sk) }
            }
            try check(status, "crypto_scalarmult_base")
            self.init(publicKey: publicKey, secretKey: secretKey)
        }

        private init(publicKey: [UInt8], secretKey: SecretBytes) {
            self.publicKey = publicKey
            self.secretKey = secretKey
        }
    }

    /// Public key length in bytes (`crypto_box_PUBLICKEYBYTES`).
    public static let publicKeyLength = 32
    /// Bytes added to a message by sealing (`crypto_box_SEALBYTES`).
    public static let sealOverhead = 48
    /// Secret key length in bytes (`crypto_box_SECRETKEYBYTES`).
    static let secretKeyLength = 32

    /// Seals `message` so that only the holder of the secret key for `publicKey` can open it.
    /// - Returns: `message.count + sealOverhead` bytes.
    /// - Throws: ``CryptoError/Code/invalidLength`` for a public key that is not 32 bytes;
    ///   ``CryptoError/Code/invalidParameters`` when libsodium rejects the public key (a
    ///   low-order point such as all zeros).
    public static func seal(_ message: some Collection<UInt8>, to publicKey: [UInt8]) throws -> [UInt8] {
        try Sodium.initialize()
        try requireLength(publicKey.count, publicKeyLength, "X25519 public key")
        return try withBytes(of: message) { messagePointer, messageLength in
            var sealed = [UInt8](repeating: 0, count: messageLength + sealOverhead)
            let status = withMutableBytes(of: &sealed) { output, _ in
                withBytes(of: publicKey) { pk, _ in
                    crypto_box_seal(output, messagePointer, UInt64(messageLength), pk)
                }
            }
            guard status == 0 else {
                // The arguments are otherwise checked, so this is a public key libsodium refuses.
                throw CryptoError.invalidParameters("crypto_box_seal rejected the public key")
            }
            return sealed
        }
    }

    /// Opens a sealed message into ``SecretBytes``.
    /// - Throws: ``CryptoError/Code/authenticationFailed`` for any input problem (too short,
    ///   modified, sealed to another key); ``CryptoError/Code/invalidLength`` for a malformed key pair.
    public static func open(_ sealed: some Collection<UInt8>, with keyPair: KeyPair) throws -> SecretBytes {
        try Sodium.initialize()
        try requireLength(keyPair.publicKey.count, publicKeyLength, "X25519 public key")
        try requireLength(keyPair.secretKey.count, secretKeyLength, "X25519 secret key")
        return try withBytes(of: sealed) { input, inputLength in
            guard inputLength >= sealOverhead else {
                throw CryptoError.authenticationFailed()
            }
            return try SecretBytes(count: inputLength - sealOverhead, filling: { output, _ in
                let status = withBytes(of: keyPair.publicKey) { pk, _ in
                    keyPair.secretKey.withBytePointer { sk, _ in
                        crypto_box_seal_open(output, input, UInt64(inputLength), pk, sk)
                    }
                }
                guard status == 0 else {
                    throw CryptoError.authenticationFailed()
                }
            })
        }
    }
}
