import CSodium

/// Ed25519 signatures (`crypto_sign_*`, detached mode).
///
/// Signatures are deterministic: the same key and message always give the same 64 bytes.
///
/// ```swift
/// let signer = try Ed25519.KeyPair.generate()
/// let signature = try Ed25519.sign(digest, with: signer)
/// let ok = Ed25519.isValid(signature: signature, for: digest, publicKey: signer.publicKey)
/// ```
public enum Ed25519 {
    /// An Ed25519 key pair.
    public struct KeyPair: Sendable {
        /// The 32-byte public key, safe to share.
        public let publicKey: [UInt8]
        /// libsodium's 64-byte secret key: the 32-byte seed followed by the public key.
        public let secretKey: SecretBytes

        /// Generates a fresh key pair (`crypto_sign_keypair`).
        /// - Throws: ``CryptoError/Code/libraryFailure`` if libsodium fails.
        public static func generate() throws -> KeyPair {
            try Sodium.initialize()
            var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
            let secretKey = try SecretBytes(count: secretKeyLength, filling: { secret, _ in
                let status = withMutableBytes(of: &publicKey) { pk, _ in crypto_sign_keypair(pk, secret) }
                try check(status, "crypto_sign_keypair")
            })
            return KeyPair(publicKey: publicKey, secretKey: secretKey)
        }

        /// Rebuilds a key pair from its 32-byte seed (`crypto_sign_seed_keypair`), the compact form
        /// to store (RFC 8032 calls it the private key).
        /// - Throws: ``CryptoError/Code/invalidLength`` for a seed that is not 32 bytes;
        ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
        public init(seed: SecretBytes) throws {
            try Sodium.initialize()
            try requireLength(seed.count, seedLength, "Ed25519 seed")
            var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
            let secretKey = try SecretBytes(count: secretKeyLength, filling: { secret, _ in
                let status = withMutableBytes(of: &publicKey) { pk, _ in
                    seed.withBytePointer { seedPointer, _ in crypto_sign_seed_keypair(pk, secret, seedPointer) }
                }
                try check(status, "crypto_sign_seed_keypair")
            })
            self.init(publicKey: publicKey, secretKey: secretKey)
        }

        private init(publicKey: [UInt8], secretKey: SecretBytes) {
            self.publicKey = publicKey
            self.secretKey = secretKey
        }

        /// The 32-byte seed this key pair derives from (`crypto_sign_ed25519_sk_to_seed`).
        public var seed: SecretBytes {
            SecretBytes(count: seedLength, filling: { output, _ in
                let status = secretKey.withBytePointer { sk, _ in crypto_sign_ed25519_sk_to_seed(output, sk) }
                if status != 0 {
                    // Cannot throw from a property. libsodium's secret key is seed ‖ public key by
                    // definition, so copying the prefix is the same operation done by hand.
                    secretKey.withBytePointer { sk, _ in output.update(from: sk, count: seedLength) }
                }
            })
        }
    }

    /// Public key length in bytes (`crypto_sign_PUBLICKEYBYTES`).
    static let publicKeyLength = 32
    /// Secret key length in bytes (`crypto_sign_SECRETKEYBYTES`).
    static let secretKeyLength = 64
    /// Seed length in bytes (`crypto_sign_SEEDBYTES`).
    static let seedLength = 32
    /// Signature length in bytes (`crypto_sign_BYTES`).
    static let signatureLength = 64

    /// Signs `message`, returning a 64-byte detached signature (`crypto_sign_detached`).
    /// - Throws: ``CryptoError/Code/invalidLength`` for a malformed key pair;
    ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
    public static func sign(_ message: some Collection<UInt8>, with keyPair: KeyPair) throws -> [UInt8] {
        try Sodium.initialize()
        try requireLength(keyPair.secretKey.count, secretKeyLength, "Ed25519 secret key")
        var signature = [UInt8](repeating: 0, count: signatureLength)
        var signatureLengthOut: UInt64 = 0
        let status = withMutableBytes(of: &signature) { output, _ in
            withBytes(of: message) { messagePointer, messageLength in
                keyPair.secretKey.withBytePointer { sk, _ in
                    crypto_sign_detached(output, &signatureLengthOut, messagePointer, UInt64(messageLength), sk)
                }
            }
        }
        try check(status, "crypto_sign_detached")
        guard signatureLengthOut == UInt64(signatureLength) else {
            throw CryptoError.libraryFailure(function: "crypto_sign_detached")
        }
        return signature
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` under `publicKey`
    /// (`crypto_sign_verify_detached`).
    ///
    /// Returns `false`, never throws, for wrong lengths, a malformed key or a bad signature.
    public static func isValid(signature: [UInt8], for message: some Collection<UInt8>, publicKey: [UInt8]) -> Bool {
        // Fail closed if libsodium could not be initialised.
        guard Sodium.isReady,
              signature.count == signatureLength,
              publicKey.count == publicKeyLength
        else { return false }
        let status = withBytes(of: signature) { sig, _ in
            withBytes(of: message) { messagePointer, messageLength in
                withBytes(of: publicKey) { pk, _ in
                    crypto_sign_verify_detached(sig, messagePointer, UInt64(messageLength), pk)
                }
            }
        }
        return status == 0
    }
}
