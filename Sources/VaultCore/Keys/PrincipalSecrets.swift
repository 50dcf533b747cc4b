package import VaultCrypto

/// How a principal's credential is stretched into its key-encryption key (KEK), as stored.
package struct CredentialParameters: Sendable, Equatable {
    package var kind: CredentialKind
    package var salt: [UInt8]
    /// Argon2id cost for passphrases; nil for key files (already 256 bits of entropy).
    package var argon2: Argon2id.Parameters?

    package init(kind: CredentialKind, salt: [UInt8], argon2: Argon2id.Parameters?) {
        self.kind = kind
        self.salt = salt
        self.argon2 = argon2
    }

    package static func fresh(for credential: Credential, argon2: Argon2id.Parameters) -> CredentialParameters {
        CredentialParameters(
            kind: credential.kind, salt: SecureRandom.bytes(Argon2id.saltLength),
            argon2: credential.kind == .passphrase ? argon2 : nil)
    }

    /// Derives the KEK. Parameters read from the file are capped before any work is done.
    package func deriveKEK(from credential: Credential, principal: String) throws -> SecretBytes {
        switch (credential, kind) {
        case (.passphrase(let passphrase), .passphrase):
            guard let argon2, argon2.isWithinAcceptedRange, salt.count == Argon2id.saltLength else {
                throw VaultError.integrity("principal \(principal): stored key-derivation parameters are outside the accepted range")
            }
            return try Argon2id.deriveKey(length: 32, passphrase: passphrase, salt: salt, parameters: argon2)
        case (.keyFile(let keyFile), .keyFile):
            var writer = ByteWriter(domain: "cvault.keyfile-kek.v1")
            writer.append(salt)
            var kek = try BLAKE2b.hash(writer.bytes, key: keyFile, outputLength: 32)
            defer { wipe(&kek) }
            return SecretBytes(copying: kek)
        case (.passphrase, .keyFile):
            throw VaultError(.badCredential, "principal \(principal) unlocks with a key file, not a passphrase")
        case (.keyFile, .passphrase):
            throw VaultError(.badCredential, "principal \(principal) unlocks with a passphrase, not a key file")
        }
    }

    /// A short keyed check value that tells a wrong credential (`badCredential`) from a corrupt blob (`integrity`).
    /// It gives an offline guesser nothing the wrapped blob does not already give.
    package static func check(kek: SecretBytes) throws -> [UInt8] {
        try BLAKE2b.hash(Array("cvault.credential-check.v1".utf8), key: kek, outputLength: 16)
    }
}

/// A principal's private keys, sealed under its KEK.
///
/// Plaintext layout (96 bytes): X25519 secret key ‖ Ed25519 seed ‖ the vault's root signing public
/// key. Pinning the root public key here, under the principal's own credential, is what lets the
/// principal verify its key grants even when an attacker can rewrite the database.
package struct PrincipalSecrets: Sendable {
    package let boxKeyPair: SealedBox.KeyPair
    package let signingKeyPair: Ed25519.KeyPair
    package let rootSigningPublicKey: [UInt8]

    package static func generate(rootSigningPublicKey: [UInt8]) throws -> PrincipalSecrets {
        PrincipalSecrets(
            boxKeyPair: try SealedBox.KeyPair.generate(),
            signingKeyPair: try Ed25519.KeyPair.generate(),
            rootSigningPublicKey: rootSigningPublicKey)
    }

    package static func associatedData(vaultID: [UInt8], principal: String, credentialVersion: UInt32) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.principal.v1")
        writer.append(vaultID)
        writer.append(principal)
        writer.append(credentialVersion)
        return writer.bytes
    }

    package func wrap(kek: SecretBytes, associatedData: [UInt8]) throws -> [UInt8] {
        var plaintext: [UInt8] = []
        defer { wipe(&plaintext) }
        boxKeyPair.secretKey.withUnsafeBytes { plaintext += $0 }
        signingKeyPair.seed.withUnsafeBytes { plaintext += $0 }
        plaintext += rootSigningPublicKey
        return try XChaCha20Poly1305.seal(plaintext, key: kek, associatedData: associatedData)
    }

    package static func unwrap(_ wrapped: [UInt8], kek: SecretBytes, associatedData: [UInt8], principal: String) throws -> PrincipalSecrets {
        let plaintext: SecretBytes
        do {
            plaintext = try XChaCha20Poly1305.openSecret(wrapped, key: kek, associatedData: associatedData)
        } catch {
            throw VaultError.integrity("principal \(principal): wrapped keys failed authentication (tampered or corrupt)")
        }
        guard plaintext.count == 96 else {
            throw VaultError.integrity("principal \(principal): wrapped keys have the wrong length")
        }
        let boxSecret = plaintext.withUnsafeBytes { SecretBytes(copying: $0[0..<32]) }
        let seed = plaintext.withUnsafeBytes { SecretBytes(copying: $0[32..<64]) }
        let root = plaintext.withUnsafeBytes { Array($0[64..<96]) }
        return PrincipalSecrets(
            boxKeyPair: try SealedBox.KeyPair(secretKey: boxSecret),
            signingKeyPair: try Ed25519.KeyPair(seed: seed),
            rootSigningPublicKey: root)
    }
}
