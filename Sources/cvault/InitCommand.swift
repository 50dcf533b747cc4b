import ArgumentParser
import CustomerVault
import Foundation
import VaultCrypto

extension CVault {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a vault and its first principal, an administrator (role admin).",
            discussion: """
                The administrator's passphrase comes from CVAULT_PASSPHRASE, --passphrase-file, or a \
                prompt asked twice. With --key-file-out, a fresh 32-byte key file is written instead \
                (mode 0600) and the administrator unlocks with --key-file.

                Example:
                  CVAULT_PASSPHRASE=… cvault init --vault crm.vault
                  cvault init --vault crm.vault --key-file-out admin.key
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Schema file to use (default: the shipped policies/schema.yaml).", valueName: "file"))
        var schema: String?

        @Option(help: ArgumentHelp("Access policy file (default: the shipped policies/default.yaml); its admin role must allow principals.manage.", valueName: "file"))
        var policy: String?

        @Option(help: ArgumentHelp("Write a new random key file for the administrator instead of using a passphrase.", valueName: "file"))
        var keyFileOut: String?

        @Flag(help: "Accept a passphrase that the strength check refuses (for tests and throw-away vaults).")
        var allowWeakPassphrase = false
        @Option(help: "Argon2id cost for the passphrase: interactive, moderate or sensitive.")
        var kdf: KDFPreset = .interactive

        func run() async throws {
            let path = try global.vaultPath
            let schema = try loadSchema()
            let policy = try self.policy.map { try Policy.load(fileAt: $0, schema: schema) }
            if FileManager.default.fileExists(atPath: path) {
                throw VaultError(.conflict, "\(path) already exists; cvault init never overwrites a file")
            }
            let credential: Credential
            if let keyFileOut {
                credential = try KeyFileWriter.create(at: keyFileOut)
            } else {
                credential = try global.credential(confirm: true)
                try PassphraseSource.checkStrength(credential, allowWeak: allowWeakPassphrase)
            }
            let vault: CustomerVault
            do {
                vault = try await CustomerVault.create(at: path, schema: schema, policy: policy, administrator: global.principalName,
                                                       credential: credential, kdf: kdf.parameters)
            } catch {
                if let keyFileOut { try? FileManager.default.removeItem(atPath: keyFileOut) }
                throw error
            }
            if global.json {
                try Output.json(["vault": path, "vault_id": vault.vaultID, "administrator": vault.principal])
            } else {
                Output.line("created vault \(path) (id \(vault.vaultID)) with administrator \(vault.principal)")
            }
        }

        private func loadSchema() throws -> Schema {
            try schema.map(Schema.load(fileAt:)) ?? Schema.shippedDefault()
        }
    }
}

enum KDFPreset: String, ExpressibleByArgument, CaseIterable {
    case interactive, moderate, sensitive

    var parameters: Argon2id.Parameters {
        switch self {
        case .interactive: .interactive
        case .moderate: .moderate
        case .sensitive: .sensitive
        }
    }
}

/// Writes fresh key files: 32 random bytes, created exclusively with mode 0600.
enum KeyFileWriter {
    static func create(at path: String) throws -> Credential {
        // Never through a symbolic link planted at the path, never over a file.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            guard errno == EEXIST else { throw VaultError(.io, "cannot create key file \(path): \(String(cString: strerror(errno)))") }
            // Never overwritten: it may be the only copy of a principal's key. A run killed before
            // its commit leaves an unused one behind, which the user may delete after checking.
            throw VaultError(.conflict, "cannot create key file \(path): it already exists and key files are never overwritten; "
                + "if an interrupted run left it and `cvault principal list` does not show the principal, delete it and run again")
        }
        defer { close(fd) }
        var key = SecureRandom.bytes(Credential.keyFileLength)
        defer { wipe(&key) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == key.count, fsync(fd) == 0 else { throw VaultError(.io, "cannot write key file \(path)") }
        return .keyFile(SecretBytes(copying: key))
    }
}
