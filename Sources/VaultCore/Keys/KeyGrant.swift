package import VaultCrypto

/// A data key handed to one principal: sealed to its X25519 public key and signed by the vault's
/// root signing key, so nobody with write access to the file can plant a key of their own.
///
/// Format 2 (written since issue #17) signs a commitment to the key itself, `BLAKE2b-256(key =
/// data key, "cvault.key-commitment.v1")`, instead of the sealed bytes and the principal's box
/// public key: a planted key still fails (its commitment is not signed), and the principal can seal
/// its own grants again to fresh key pairs when its credential changes, without the root key.
/// Format 1 (older vaults) signed the box public key and the sealed bytes; a key custodian's
/// upgrade re-issues such grants in format 2.
package struct KeyGrant: Sendable, Equatable {
    package static let currentFormat: Int64 = 2

    package var scope: KeyScope
    package var sealedKey: [UInt8]
    package var signature: [UInt8]
    package var format: Int64 = currentFormat

    package init(scope: KeyScope, sealedKey: [UInt8], signature: [UInt8], format: Int64 = currentFormat) {
        self.scope = scope
        self.sealedKey = sealedKey
        self.signature = signature
        self.format = format
    }

    package static func legacyMessage(vaultID: [UInt8], principal: String, boxPublicKey: [UInt8], scope: KeyScope, sealedKey: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.grant.v1")
        writer.append(vaultID)
        writer.append(principal)
        writer.append(boxPublicKey)
        writer.append(scope.field)
        writer.append(scope.purpose.rawValue)
        writer.append(scope.version)
        writer.append(sealedKey)
        return writer.bytes
    }

    package static func message(vaultID: [UInt8], principal: String, scope: KeyScope, commitment: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.grant.v2")
        writer.append(vaultID)
        writer.append(principal)
        writer.append(scope.field)
        writer.append(scope.purpose.rawValue)
        writer.append(scope.version)
        writer.append(commitment)
        return writer.bytes
    }

    /// Binds a grant's signature to the key itself; reveals nothing about a 256-bit random key.
    package static func commitment(_ key: SecretBytes) throws -> [UInt8] {
        try BLAKE2b.hash(Array("cvault.key-commitment.v1".utf8), key: key, outputLength: 32)
    }

    /// Seals `key` to the principal and signs the grant with the root key.
    package static func issue(key: SecretBytes, scope: KeyScope, to principal: String, boxPublicKey: [UInt8],
                      vaultID: [UInt8], root: Ed25519.KeyPair) throws -> KeyGrant {
        let signature = try Ed25519.sign(message(vaultID: vaultID, principal: principal, scope: scope, commitment: try commitment(key)), with: root)
        return KeyGrant(scope: scope, sealedKey: try seal(key, to: boxPublicKey), signature: signature)
    }

    /// The same grant sealed to another box public key (a credential change); the signature stays.
    package func resealed(key: SecretBytes, to boxPublicKey: [UInt8]) throws -> KeyGrant {
        guard format == Self.currentFormat else {
            throw VaultError(.unsupported, "key grant \(scope) is of an older format; a key custodian must open the vault once to upgrade it")
        }
        var copy = self
        copy.sealedKey = try Self.seal(key, to: boxPublicKey)
        return copy
    }

    private static func seal(_ key: SecretBytes, to boxPublicKey: [UInt8]) throws -> [UInt8] {
        var plaintext = key.withUnsafeBytes { Array($0) }
        defer { wipe(&plaintext) }
        return try SealedBox.seal(plaintext, to: boxPublicKey)
    }

    /// Opens the grant and verifies it against the pinned root public key.
    package func open(principal: String, secrets: PrincipalSecrets, vaultID: [UInt8]) throws -> SecretBytes {
        let forged = VaultError.integrity("key grant \(scope) for principal \(principal) has an invalid signature")
        switch format {
        case 1:
            let signed = Self.legacyMessage(vaultID: vaultID, principal: principal, boxPublicKey: secrets.boxKeyPair.publicKey,
                                            scope: scope, sealedKey: sealedKey)
            guard Ed25519.isValid(signature: signature, for: signed, publicKey: secrets.rootSigningPublicKey) else { throw forged }
            return try openSealed(principal: principal, secrets: secrets)
        case Self.currentFormat:
            let key = try openSealed(principal: principal, secrets: secrets)
            let signed = Self.message(vaultID: vaultID, principal: principal, scope: scope, commitment: try Self.commitment(key))
            guard Ed25519.isValid(signature: signature, for: signed, publicKey: secrets.rootSigningPublicKey) else { throw forged }
            return key
        default:
            throw VaultError.integrity("key grant \(scope) for principal \(principal) has an unknown format")
        }
    }

    private func openSealed(principal: String, secrets: PrincipalSecrets) throws -> SecretBytes {
        do {
            return try SealedBox.open(sealedKey, with: secrets.boxKeyPair)
        } catch {
            throw VaultError.integrity("key grant \(scope) for principal \(principal) does not open")
        }
    }
}
