import VaultCrypto

/// A data key handed to one principal: sealed to its X25519 public key and signed by the vault's
/// root signing key, so nobody with write access to the file can plant a key of their own.
struct KeyGrant: Sendable {
    var scope: KeyScope
    var sealedKey: [UInt8]
    var signature: [UInt8]

    static func message(vaultID: [UInt8], principal: String, boxPublicKey: [UInt8], scope: KeyScope, sealedKey: [UInt8]) -> [UInt8] {
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

    /// Seals `key` to the principal and signs the grant with the root key.
    static func issue(key: SecretBytes, scope: KeyScope, to principal: String, boxPublicKey: [UInt8],
                      vaultID: [UInt8], root: Ed25519.KeyPair) throws -> KeyGrant {
        var plaintext = key.withUnsafeBytes { Array($0) }
        defer { wipe(&plaintext) }
        let sealed = try SealedBox.seal(plaintext, to: boxPublicKey)
        let signature = try Ed25519.sign(
            message(vaultID: vaultID, principal: principal, boxPublicKey: boxPublicKey, scope: scope, sealedKey: sealed),
            with: root)
        return KeyGrant(scope: scope, sealedKey: sealed, signature: signature)
    }

    /// Verifies the grant against the pinned root public key, then opens it.
    func open(principal: String, secrets: PrincipalSecrets, vaultID: [UInt8]) throws -> SecretBytes {
        let signed = Self.message(
            vaultID: vaultID, principal: principal, boxPublicKey: secrets.boxKeyPair.publicKey, scope: scope, sealedKey: sealedKey)
        guard Ed25519.isValid(signature: signature, for: signed, publicKey: secrets.rootSigningPublicKey) else {
            throw VaultError.integrity("key grant \(scope) for principal \(principal) has an invalid signature")
        }
        do {
            return try SealedBox.open(sealedKey, with: secrets.boxKeyPair)
        } catch {
            throw VaultError.integrity("key grant \(scope) for principal \(principal) does not open")
        }
    }
}
