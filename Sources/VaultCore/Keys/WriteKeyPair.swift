package import VaultCrypto

/// The X25519 key pair of one field key (seal or mask, one version), derived from the symmetric key.
///
/// Deriving rather than storing it means every holder of the field key can open write sessions
/// with no extra grant, while a write-only role is granted only the public half.
package enum WriteKeyPair {
    package static func derive(from dataKey: SecretBytes) throws -> SealedBox.KeyPair {
        var secret = try BLAKE2b.hash(Array("cvault.write-keypair.v1".utf8), key: dataKey, outputLength: 32)
        defer { wipe(&secret) }
        return try SealedBox.KeyPair(secretKey: SecretBytes(copying: secret))
    }
}

extension Keyring {
    /// The bytes a grant of `scope` hands over: the key itself, or for a public scope the public
    /// key derived from its private twin. Nil when this keyring lacks what is needed.
    package func material(for scope: KeyScope) throws -> SecretBytes? {
        if let twin = scope.purpose.privateTwin {
            guard let privateKey = key(KeyScope(field: scope.field, purpose: twin, version: scope.version)) else { return nil }
            return SecretBytes(copying: try WriteKeyPair.derive(from: privateKey).publicKey)
        }
        return key(scope)
    }
}
