import Foundation
package import VaultCrypto

/// What creating a backup needs: the vault's backup public key (granted to roles allowed
/// `vault.backup` as `vault/backup_public/vN`, inside a root-signed grant).
package struct BackupRecipient: Sendable {
    package var vaultID: [UInt8]
    package var version: UInt32
    package var publicKey: [UInt8]

    package init(vaultID: [UInt8], version: UInt32, publicKey: [UInt8]) {
        self.vaultID = vaultID
        self.version = version
        self.publicKey = publicKey
    }

    package var keyID: [UInt8] { get throws { try BackupKey.keyID(publicKey) } }
}

/// What opening a backup needs: the vault's backup key (`vault/backup/vN`), held by key custodians
/// and by whoever keeps a recovery key file. Its X25519 key pair is derived from it like a write
/// key pair (SECURITY.md §3).
public struct BackupKey: Sendable {
    package static let scope = KeyScope(field: KeyScope.vaultWide, purpose: .backup, version: 1)

    package let vaultID: [UInt8]
    package let version: UInt32
    package let key: SecretBytes
    package let pair: SealedBox.KeyPair

    package init(vaultID: [UInt8], version: UInt32, key: SecretBytes) throws {
        self.vaultID = vaultID
        self.version = version
        self.key = key
        pair = try WriteKeyPair.derive(from: key)
    }

    package var keyID: [UInt8] { get throws { try Self.keyID(pair.publicKey) } }

    /// BLAKE2b-128 over a domain and the backup public key: names the key in a backup header.
    package static func keyID(_ publicKey: [UInt8]) throws -> [UInt8] {
        try BLAKE2b.hash(Array("cvault.backup-key-id.v1".utf8) + publicKey, outputLength: 16)
    }

    private static let recoveryHeader = "cvault backup key 1"

    /// Reads a recovery key file written by ``CustomerVault/exportBackupKey(to:)``.
    ///
    /// - Throws: ``VaultError`` `.notFound` for a missing file, `.invalidInput` for a malformed one.
    public static func recoveryFile(at path: String) throws -> BackupKey {
        var bytes = try Credential.readSecretFile(path, what: "backup key file", limit: 1_024)
        defer { wipe(&bytes) }
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true)
        func value(_ name: String) -> ArraySlice<UInt8>? {
            let prefix = Array((name + " ").utf8)
            return lines.first { $0.starts(with: prefix) }.map { $0.dropFirst(prefix.count) }
        }
        guard lines.first.map({ Array($0) }) == Array(recoveryHeader.utf8),
              let vault = value("vault").flatMap({ Hex.decode($0) }), vault.count == 16,
              let versionText = value("version"), let version = UInt32(String(decoding: versionText, as: UTF8.self)),
              let keyText = value("key"), keyText.count == 64, var key = Hex.decode(keyText) else {
            throw VaultError.invalidInput("\(path) is not a cvault backup key file (expected the four lines a backup key export writes)")
        }
        defer { wipe(&key) }
        return try BackupKey(vaultID: vault, version: version, key: SecretBytes(copying: key))
    }

    /// The recovery file's text. It is a secret: whoever holds it opens every backup of the vault.
    package func recoveryFileBytes() -> [UInt8] {
        var text = Array("\(Self.recoveryHeader)\nvault \(Hex.encode(vaultID))\nversion \(version)\nkey ".utf8)
        key.withUnsafeBytes { buffer in text += Array(Hex.encode(buffer).utf8) }
        text.append(0x0A)
        return text
    }
}
