import Foundation
package import VaultCrypto

/// A principal: who it is, its role and attributes, its public keys and wrapped secrets, and the
/// root key's certificate over them (stored in `principals` and `principal_keys`).
package struct PrincipalRecord: Sendable, Equatable {
    package var id: Int64?
    package var name: String
    package var role: String
    /// Attributes compared by row conditions (`regions` → `EU,UK`).
    package var attributes: [String: String]
    package var boxPublicKey: [UInt8]
    package var signPublicKey: [UInt8]
    package var parameters: CredentialParameters
    package var credentialCheck: [UInt8]
    package var wrappedSecrets: [UInt8]
    package var credentialVersion: UInt32
    package var disabled: Bool
    /// The root key's signature over ``certifiedMessage(vaultID:)``.
    package var certificate: [UInt8]?
    /// The sequence number of the access-log entry that disabled it: entries it signs after that
    /// are refused by `audit verify`.
    package var disabledAtSeq: Int64?
    /// Every version of its key pairs, oldest first (``PrincipalKey``); the last one is current.
    package var keys: [PrincipalKey] = []
    /// The version of ``boxPublicKey`` and ``signPublicKey``.
    package var keyVersion: UInt32 { keys.last?.version ?? 1 }
    /// `principals.key_version` as read (checked against the chain when the keys are loaded).
    package var storedKeyVersion: Int64 = 1

    package init(id: Int64?, name: String, role: String, attributes: [String: String], boxPublicKey: [UInt8], signPublicKey: [UInt8],
                 parameters: CredentialParameters, credentialCheck: [UInt8], wrappedSecrets: [UInt8], credentialVersion: UInt32,
                 disabled: Bool, certificate: [UInt8]?, disabledAtSeq: Int64? = nil, keys: [PrincipalKey] = [], storedKeyVersion: Int64 = 1) {
        self.id = id
        self.name = name
        self.role = role
        self.attributes = attributes
        self.boxPublicKey = boxPublicKey
        self.signPublicKey = signPublicKey
        self.parameters = parameters
        self.credentialCheck = credentialCheck
        self.wrappedSecrets = wrappedSecrets
        self.credentialVersion = credentialVersion
        self.disabled = disabled
        self.certificate = certificate
        self.disabledAtSeq = disabledAtSeq
        self.keys = keys
        self.storedKeyVersion = storedKeyVersion
    }

    package static func validateName(_ name: String) throws {
        guard NamePattern.principalName(name) else {
            throw VaultError.invalidInput("principal names are 1 to 64 letters, digits, '.', '_' or '-'")
        }
    }

    /// Wraps freshly generated secrets under a new credential.
    package static func validateAttributes(_ attributes: [String: String]) throws {
        guard attributes.count <= 32 else { throw VaultError.invalidInput("at most 32 attributes per principal") }
        for (key, value) in attributes {
            guard NamePattern.lowerIdentifier(key, maxLength: 32) else {
                throw VaultError.invalidInput("attribute names are lower-case letters, digits and '_' (got an invalid one)")
            }
            guard value.utf8.count <= 256, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw VaultError.invalidInput("attribute \(key): values are at most 256 bytes of printable text")
            }
        }
    }

    package static func make(name: String, role: String, attributes: [String: String] = [:], credential: Credential, kdf: Argon2id.Parameters,
                     secrets: PrincipalSecrets, vaultID: [UInt8]) throws -> PrincipalRecord {
        let parameters = CredentialParameters.fresh(for: credential, argon2: kdf)
        let kek = try parameters.deriveKEK(from: credential, principal: name)
        let wrapped = try secrets.wrap(kek: kek, associatedData: PrincipalSecrets.associatedData(vaultID: vaultID, principal: name, credentialVersion: 1))
        return PrincipalRecord(
            id: nil, name: name, role: role, attributes: attributes, boxPublicKey: secrets.boxKeyPair.publicKey,
            signPublicKey: secrets.signingKeyPair.publicKey, parameters: parameters,
            credentialCheck: try CredentialParameters.check(kek: kek), wrappedSecrets: wrapped,
            credentialVersion: 1, disabled: false, certificate: nil,
            keys: [PrincipalKey(version: 1, boxPublicKey: secrets.boxKeyPair.publicKey, signPublicKey: secrets.signingKeyPair.publicKey,
                                fromSeq: 1, endorsement: nil)])
    }

    /// What the root key certifies about a principal (format 2): who it is, its role, attributes,
    /// its first key pairs (the anchor of its key chain), and whether it is disabled, since which
    /// access-log entry.
    package func certifiedMessage(vaultID: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.principal-certificate.v2")
        writer.append(vaultID)
        writer.append(name)
        writer.append(role)
        writer.append(FlatJSON.encode(attributes))
        writer.append(keys.first?.boxPublicKey ?? [])
        writer.append(keys.first?.signPublicKey ?? [])
        writer.append(disabled ? 1 : 0 as UInt8)
        writer.append(disabledAtSeq ?? 0)
        return writer.bytes
    }

    /// Format 1, written before principals could be disabled by certificate or change keys: it
    /// certified the keys of version 1. Accepted only in a vault not yet upgraded.
    package func legacyCertifiedMessage(vaultID: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.principal-certificate.v1")
        writer.append(vaultID)
        writer.append(name)
        writer.append(role)
        writer.append(FlatJSON.encode(attributes))
        writer.append(keys.first?.boxPublicKey ?? [])
        writer.append(keys.first?.signPublicKey ?? [])
        return writer.bytes
    }

    package mutating func certify(vaultID: [UInt8], root: Ed25519.KeyPair) throws {
        certificate = try Ed25519.sign(certifiedMessage(vaultID: vaultID), with: root)
    }

    /// Refuses a principal whose role, attributes, disabled state or keys were changed in the file:
    /// the root certificate must verify over its first keys, each later key version must be
    /// endorsed by the one before, and the last must be the keys stored as current.
    ///
    /// - Parameter legacy: Also accept a format-1 certificate (a vault not yet upgraded).
    package func verifyCertificate(vaultID: [UInt8], rootPublicKey: [UInt8], legacy: Bool = false) throws {
        let altered = "principal \(name): its certificate does not verify (role, attributes, disabled state or keys were altered in the file)"
        guard let certificate, let anchor = keys.first, anchor.version == 1 else { throw VaultError.integrity(altered) }
        if !Ed25519.isValid(signature: certificate, for: certifiedMessage(vaultID: vaultID), publicKey: rootPublicKey) {
            // A legacy certificate says nothing of the disabled flag; the flag can only restrict.
            guard legacy, disabledAtSeq == nil,
                  Ed25519.isValid(signature: certificate, for: legacyCertifiedMessage(vaultID: vaultID), publicKey: rootPublicKey) else {
                throw VaultError.integrity(altered)
            }
        }
        for (previous, key) in zip(keys, keys.dropFirst()) {
            guard key.version == previous.version + 1, key.fromSeq > previous.fromSeq, let endorsement = key.endorsement,
                  Ed25519.isValid(signature: endorsement, for: key.endorsedMessage(vaultID: vaultID, principal: name),
                                  publicKey: previous.signPublicKey) else {
                throw VaultError.integrity("principal \(name): key version \(key.version) is not endorsed by version \(previous.version) (altered in the file)")
            }
        }
        guard let current = keys.last, current.boxPublicKey == boxPublicKey, current.signPublicKey == signPublicKey else {
            throw VaultError.integrity("principal \(name): its current public keys are not the last of its certified key chain (altered in the file)")
        }
    }

    /// The signing key of the version that signed entries at `seq` (access-log order).
    package func signingKey(atSeq seq: Int64) -> [UInt8] {
        (keys.last { $0.fromSeq <= seq } ?? keys.first)?.signPublicKey ?? signPublicKey
    }

    /// Derives the KEK, tells a wrong credential from a corrupt record, and opens the secrets.
    package func unlock(credential: Credential, vaultID: [UInt8]) throws -> PrincipalSecrets {
        try unlock(kek: try parameters.deriveKEK(from: credential, principal: name), vaultID: vaultID)
    }

    /// ``unlock(credential:vaultID:)`` with the KEK already derived from this record's parameters.
    package func unlock(kek: SecretBytes, vaultID: [UInt8]) throws -> PrincipalSecrets {
        let associatedData = PrincipalSecrets.associatedData(vaultID: vaultID, principal: name, credentialVersion: credentialVersion)
        guard constantTimeEquals(try CredentialParameters.check(kek: kek), credentialCheck) else {
            // A right credential with a tampered check value still opens the secrets: call that corruption.
            if (try? PrincipalSecrets.unwrap(wrappedSecrets, kek: kek, associatedData: associatedData, principal: name)) != nil {
                throw VaultError.integrity("principal \(name): the stored credential check value is corrupt")
            }
            throw VaultError(.badCredential, "the passphrase or key file does not unlock principal \(name)")
        }
        let secrets = try PrincipalSecrets.unwrap(wrappedSecrets, kek: kek, associatedData: associatedData, principal: name)
        guard secrets.boxKeyPair.publicKey == boxPublicKey, secrets.signingKeyPair.publicKey == signPublicKey else {
            throw VaultError.integrity("principal \(name): stored public keys do not match its secrets")
        }
        return secrets
    }
}

/// One version of a principal's public keys (table `principal_keys`).
///
/// Version 1 is anchored by the root-signed certificate. A credential change makes version n+1
/// with fresh key pairs, endorsed by version n's signing key over (name, version, both public keys,
/// `fromSeq`): the first access-log entry the new signing key signs. `audit verify` accepts an
/// entry only from the key version whose range holds its sequence number, so a signing key that
/// an old credential still opens can sign nothing new.
package struct PrincipalKey: Sendable, Equatable {
    package var version: UInt32
    package var boxPublicKey: [UInt8]
    package var signPublicKey: [UInt8]
    package var fromSeq: Int64
    package var endorsement: [UInt8]?

    package init(version: UInt32, boxPublicKey: [UInt8], signPublicKey: [UInt8], fromSeq: Int64, endorsement: [UInt8]?) {
        self.version = version
        self.boxPublicKey = boxPublicKey
        self.signPublicKey = signPublicKey
        self.fromSeq = fromSeq
        self.endorsement = endorsement
    }

    package func endorsedMessage(vaultID: [UInt8], principal: String) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.principal-keys.v1")
        writer.append(vaultID)
        writer.append(principal)
        writer.append(version)
        writer.append(boxPublicKey)
        writer.append(signPublicKey)
        writer.append(fromSeq)
        return writer.bytes
    }
}
