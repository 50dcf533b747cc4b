import ArgumentParser
import CustomerVault
import Foundation
import VaultCrypto

/// Options every vault command shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Path of the vault file (or CVAULT_VAULT).", valueName: "path"))
    var vault: String?

    @Option(name: .long, help: ArgumentHelp("Principal to act as (or CVAULT_PRINCIPAL; default: admin).", valueName: "name"))
    var principal: String?

    @Option(name: .long, help: ArgumentHelp("Read the passphrase from this file (first line).", valueName: "file"))
    var passphraseFile: String?

    @Option(name: .long, help: ArgumentHelp("Unlock with a 32-byte key file instead of a passphrase (or CVAULT_KEY_FILE).", valueName: "file"))
    var keyFile: String?

    @Option(name: .long, help: ArgumentHelp("Purpose of this access, from the policy's purposes (or CVAULT_PURPOSE); grants may require one.", valueName: "name"))
    var purpose: String?

    @Option(name: .long, help: ArgumentHelp("Free-text reason kept with the purpose in the access log (no personal data).", valueName: "text"))
    var reason: String?

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    var vaultPath: String {
        get throws { try Self.vaultPath(vault) }
    }

    /// `--vault`, else CVAULT_VAULT; also for commands that take no credential.
    static func vaultPath(_ option: String?) throws -> String {
        guard let path = option ?? ProcessInfo.processInfo.environment["CVAULT_VAULT"], !path.isEmpty else {
            throw ValidationError("no vault given: use --vault PATH or set CVAULT_VAULT")
        }
        return path
    }

    var principalName: String {
        principal ?? ProcessInfo.processInfo.environment["CVAULT_PRINCIPAL"] ?? "admin"
    }

    /// Opens the vault as the chosen principal with a credential from the allowed sources.
    func openVault() async throws -> CustomerVault {
        let path = try vaultPath
        // Fail on a missing vault before asking for a passphrase.
        guard FileManager.default.fileExists(atPath: path) else {
            throw VaultError(.notFound, "no vault at \(path) (create one with `cvault init`)")
        }
        let migration = MigrationBar()
        let vault = try await CustomerVault.open(at: path, principal: principalName, credential: try credential(confirm: false),
                                                 migrationProgress: migration.report)
        migration.finish()
        guard let purpose = purpose ?? ProcessInfo.processInfo.environment["CVAULT_PURPOSE"], !purpose.isEmpty else {
            guard reason == nil else { throw ValidationError("--reason goes with --purpose") }
            return vault
        }
        return try vault.withPurpose(purpose, reason: reason)
    }

    /// The credential, from (in order) --key-file, CVAULT_KEY_FILE, --passphrase-file,
    /// CVAULT_PASSPHRASE, or a no-echo prompt on the terminal.
    func credential(confirm: Bool) throws -> Credential {
        let environment = ProcessInfo.processInfo.environment
        if let keyFile = keyFile ?? environment["CVAULT_KEY_FILE"] {
            return try Credential.keyFile(at: keyFile)
        }
        if let passphraseFile {
            return try Credential.passphrase(fileAt: passphraseFile)
        }
        if var passphrase = SecretEnvironment.take("CVAULT_PASSPHRASE") {
            defer { wipe(&passphrase) }
            return try Credential.passphrase(bytes: passphrase, source: "CVAULT_PASSPHRASE")
        }
        return try PassphraseSource.prompt(confirm: confirm)
    }
}

/// Secrets passed in the environment: read once, then removed from the process.
enum SecretEnvironment {
    /// The bytes of `name`, after which its value is overwritten in place (the environment block is
    /// what `/proc/PID/environ` shows, for as long as the process runs: `audit log --follow` runs
    /// for days) and the variable is unset.
    static func take(_ name: String) -> [UInt8]? {
        guard let pointer = getenv(name) else { return nil }
        let length = strlen(pointer)
        let bytes = Array(UnsafeRawBufferPointer(start: pointer, count: length))
        memset(pointer, 0, length)
        unsetenv(name)
        return bytes
    }
}
