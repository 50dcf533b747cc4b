import ArgumentParser
import CustomerVault
import Foundation
import VaultCrypto

extension CVault {
    struct PrincipalCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "principal",
            abstract: "Add, list, update and disable principals; change your own credential.",
            discussion: """
                A principal is a person or service with its own credential and a role from the policy. \
                Its keyring holds exactly the keys its role needs; keys are sealed to its public key, \
                so granting them never needs its passphrase.

                New credentials come from CVAULT_NEW_PASSPHRASE, --new-passphrase-file FILE, a prompt \
                asked twice, or --key-file-out FILE (a fresh 32-byte key file, mode 0600).
                """,
            subcommands: [Add.self, List.self, Update.self, Disable.self, Passwd.self])
    }
}

/// Where a new credential comes from (never an argument).
struct NewCredentialOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Read the new passphrase from this file (first line).", valueName: "file"))
    var newPassphraseFile: String?

    @Option(help: ArgumentHelp("Write a new random 32-byte key file (mode 0600) and use it instead of a passphrase.", valueName: "file"))
    var keyFileOut: String?

    @Option(help: "Argon2id cost for a new passphrase: interactive, moderate or sensitive.")
    var kdf: KDFPreset = .interactive

    @Flag(help: "Accept a new passphrase that the strength check refuses (for tests and throw-away vaults).")
    var allowWeakPassphrase = false

    func validate() throws {
        if newPassphraseFile != nil && keyFileOut != nil { throw ValidationError("give --new-passphrase-file or --key-file-out, not both") }
    }

    /// Runs `body` with the new credential; a key file written for it is removed again when
    /// `body` fails, so a refused command leaves no orphan key behind.
    func with<T>(_ body: (Credential) async throws -> T) async throws -> T {
        guard let keyFileOut else { return try await body(try passphrase()) }
        let credential = try KeyFileWriter.create(at: keyFileOut)
        do {
            return try await body(credential)
        } catch {
            try? FileManager.default.removeItem(atPath: keyFileOut)
            throw error
        }
    }

    private func passphrase() throws -> Credential {
        let credential: Credential
        if let newPassphraseFile {
            credential = try Credential.passphrase(fileAt: newPassphraseFile)
        } else if var passphrase = SecretEnvironment.take("CVAULT_NEW_PASSPHRASE") {
            defer { wipe(&passphrase) }
            credential = try Credential.passphrase(bytes: passphrase, source: "CVAULT_NEW_PASSPHRASE")
        } else {
            credential = try PassphraseSource.prompt(confirm: true, label: "New passphrase",
                                                     sources: "set CVAULT_NEW_PASSPHRASE, use --new-passphrase-file FILE or --key-file-out FILE")
        }
        try PassphraseSource.checkStrength(credential, allowWeak: allowWeakPassphrase)
        return credential
    }
}

extension CVault.PrincipalCommand {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a principal with a role and attributes (needs principals.manage).",
            discussion: """
                Example:
                  CVAULT_NEW_PASSPHRASE=… cvault principal add alice --role support --attr regions=EU,UK
                  cvault principal add signup-form --role intake --key-file-out intake.key
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Name of the new principal.") var name: String
        @Option(help: "Role from the policy in force.") var role: String
        @Option(name: .customLong("attr"), help: ArgumentHelp("Attribute for row conditions, repeatable.", valueName: "key=value"))
        var attributes: [String] = []
        @OptionGroup var newCredential: NewCredentialOptions

        func run() async throws {
            var parsed: [String: String] = [:]
            try FieldPairs.add(attributes, to: &parsed, option: "--attr", what: "attribute")
            let vault = try await global.openVault()
            let info = try await newCredential.with { credential in
                try await vault.principals.add(name, role: role, attributes: parsed, credential: credential, kdf: newCredential.kdf.parameters)
            }
            if global.json { try Output.json(info) } else {
                Output.line("added principal \(info.name) with role \(info.role) (\(info.keys) keys)")
            }
            // Row conditions fail closed: say so when the new principal lacks an attribute they read.
            for condition in vault.policy.role(role)?.rows ?? [] {
                if case .inPrincipalAttribute(let name) = condition.test, parsed[name] == nil {
                    Output.note("note: role \(role) shows only customers whose \(condition.attribute) is in the principal's '\(name)' attribute; \(info.name) has none, so it will see no customers (add --attr \(name)=…)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List principals, their roles, attributes and key counts.", discussion: "Example: cvault principal list --json")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let vault = try await global.openVault()
            let principals = try await vault.principals.list()
            if global.json { try Output.json(principals); return }
            for info in principals {
                let attributes = info.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                let state = info.disabled ? "disabled" : "\(info.keys) keys"
                Output.line("\(info.name)\t\(info.role)\t\(info.credential)\t\(state)\t\(attributes)")
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update",
            abstract: "Change a principal's role or attributes (needs principals.manage).",
            discussion: """
                The principal gets a new root certificate and exactly the keys the new role needs: keys it \
                no longer needs are deleted from its keyring, and what it wrote through write sessions stays \
                readable. Keys it may have copied before still open old copies of the file; --rotate also \
                rotates every field it lost keys for. A disabled principal stays disabled (add a new one).

                Example:
                  cvault principal update alice --role support --attr regions=EU,UK
                  cvault principal update alice --remove-attr regions --rotate
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Principal to change.") var name: String
        @Option(help: "New role from the policy in force.") var role: String?
        @Option(name: .customLong("attr"), help: ArgumentHelp("Attribute to set, repeatable.", valueName: "key=value"))
        var attributes: [String] = []
        @Option(name: .customLong("remove-attr"), help: ArgumentHelp("Attribute to remove, repeatable.", valueName: "key"))
        var removed: [String] = []
        @Flag(help: "Also rotate every field whose keys it loses (re-encrypts those fields; retire old versions afterwards).") var rotate = false

        func validate() throws {
            guard role != nil || !attributes.isEmpty || !removed.isEmpty else {
                throw ValidationError("nothing to change: give --role, --attr key=value or --remove-attr key")
            }
        }

        func run() async throws {
            var parsed: [String: String] = [:]
            try FieldPairs.add(attributes, to: &parsed, option: "--attr", what: "attribute")
            let vault = try await global.openVault()
            let bar = ProgressBar(label: "rotate keys")
            let update = try await vault.principals.update(name, role: role, setting: parsed, removing: removed, rotatingLostKeys: rotate) { progress in
                bar.update(done: progress.done, total: progress.total, accepted: progress.done, rejected: 0)
            }
            bar.finish()
            if global.json { try Output.json(update); return }
            let roleText = update.role == update.previousRole ? "role \(update.role)" : "role \(update.previousRole) → \(update.role)"
            Output.line("updated principal \(update.name): \(roleText), \(update.keysAdded) keys granted, \(update.keysRemoved) removed")
            if !update.rotated.isEmpty {
                Output.line("rotated \(update.rotated.count) fields it lost keys for: \(update.rotated.joined(separator: ", "))")
            } else if !update.fieldsLost.isEmpty {
                Output.note("note: \(update.name) no longer holds keys for \(update.fieldsLost.joined(separator: ", ")); keys it copied before still open old copies of the file (cvault keys rotate --field … or --rotate cuts them off)")
            }
            for condition in vault.policy.role(update.role)?.rows ?? [] {
                if case .inPrincipalAttribute(let attribute) = condition.test, update.attributes[attribute] == nil {
                    Output.note("note: role \(update.role) shows only customers whose \(condition.attribute) is in the principal's '\(attribute)' attribute; \(update.name) has none, so it will see no customers")
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "disable",
            abstract: "Disable a principal and delete its keyring (needs principals.manage).", discussion: "Example: cvault principal disable alice --rotate")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Principal to disable.") var name: String
        @Flag(help: "Also rotate every key it held (re-encrypts those fields; retire old versions afterwards).") var rotate = false

        func run() async throws {
            let vault = try await global.openVault()
            let bar = ProgressBar(label: "rotate keys")
            let rotation = try await vault.principals.disable(name, rotatingItsKeys: rotate) { progress in
                bar.update(done: progress.done, total: progress.total, accepted: progress.done, rejected: 0)
            }
            bar.finish()
            if global.json { try Output.json(DisableResult(disabled: name, rotated: rotation?.fields ?? [])); return }
            Output.line("disabled principal \(name); its keys are removed")
            if let rotation { Output.line("rotated \(rotation.fields.count) fields it held; \(rotation.reencrypted) values re-encrypted") }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwd",
            abstract: "Change your own passphrase or key file, and with it your key pairs (a revocation of the old credential).",
            discussion: """
                Unlock with the current credential as usual; the new one comes from CVAULT_NEW_PASSPHRASE, \
                --new-passphrase-file, --key-file-out or a prompt. The principal gets new key pairs: its key \
                grants are sealed again to the new one and its old signing key signs nothing more, so the old \
                credential opens nothing in the vault any more, even with an old copy of the file (SECURITY.md §3).

                Example:
                  CVAULT_NEW_PASSPHRASE=… cvault principal passwd --principal alice
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var newCredential: NewCredentialOptions

        func run() async throws {
            let vault = try await global.openVault()
            let renewed = try await newCredential.with { try await vault.principals.changeCredential(to: $0, kdf: newCredential.kdf.parameters) }
            try? renewed.close()
            if global.json { try Output.json(["principal": vault.principal]) } else { Output.line("credential of \(vault.principal) changed") }
        }
    }
}

/// `cvault principal disable --json`: who, and the fields whose keys were rotated with it.
struct DisableResult: Encodable {
    var disabled: String
    var rotated: [String]
}
