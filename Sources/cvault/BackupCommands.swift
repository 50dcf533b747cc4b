import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct BackupCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Make, check and restore encrypted backups (vault.backup, vault.restore).",
            discussion: """
                A backup is one file: a consistent snapshot of the vault taken while it stays in use, \
                encrypted with libsodium's secretstream in 1 MiB chunks and sealed to the vault's backup \
                public key. A role allowed only vault.backup (shipped: backup_operator) makes backups it \
                cannot open; opening one needs the backup key, held by key custodians (admin) or kept \
                offline as a recovery key file (`cvault backup export-key`). The format is in SECURITY.md.

                Examples:
                  cvault backup create nightly.cvbackup
                  cvault backup verify nightly.cvbackup
                  cvault backup inspect nightly.cvbackup
                  cvault backup restore nightly.cvbackup --to restored.db
                  cvault backup restore nightly.cvbackup --to vault.db --force --backup-key-file recovery.key

                Exit codes: 6 the file is damaged or was tampered with, 4 a wrong backup key or a backup \
                of another vault, 1 a newer format, 5 no such file.
                """,
            subcommands: [Create.self, Verify.self, Inspect.self, Restore.self, ExportKey.self])
    }
}

extension CVault.BackupCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Write an encrypted backup of the whole vault to a new file.",
            discussion: "The vault stays usable meanwhile. The file appears only once complete; an existing file is never overwritten. Example: cvault backup create nightly.cvbackup --principal nightly --key-file nightly.key")

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The backup file to create.", valueName: "file")) var file: String

        func run() async throws {
            let vault = try await global.openVault()
            let bar = ProgressBar(label: "backup")
            let report = try await vault.backups.create(to: file) { bar.update(bytes: $0.done, of: $0.total) }
            bar.finish()
            if global.json { try Output.json(report); return }
            Output.line("backup written: \(file) (\(Self.size(report.bytes)), \(report.chunks) chunks, backup key \(report.header.keyID) v\(report.header.keyVersion))")
        }

        static func size(_ bytes: Int64) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check every chunk and the final tag of a backup without restoring it.",
            discussion: """
                With the vault (--vault and a key custodian's credential) the check is in its access log. \
                With --backup-key-file no vault is needed (nor logged).

                Example: cvault backup verify nightly.cvbackup
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The backup file.", valueName: "file")) var file: String
        @Option(help: ArgumentHelp("A recovery key file from `cvault backup export-key`.", valueName: "file")) var backupKeyFile: String?

        func run() async throws {
            let bar = ProgressBar(label: "verify")
            let report: BackupReport
            if let backupKeyFile {
                report = try CustomerVault.verifyBackup(file, key: try BackupKey.recoveryFile(at: backupKeyFile)) { bar.update(bytes: $0.done, of: $0.total) }
            } else {
                report = try await global.openVault().backups.verify(file) { bar.update(bytes: $0.done, of: $0.total) }
            }
            bar.finish()
            if global.json { try Output.json(report); return }
            Output.line("ok: \(file): \(report.chunks) chunks, snapshot \(Create.size(report.header.snapshotBytes)) of vault \(report.header.vaultID), created \(report.header.createdAt)")
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Print a backup's public header (no key needed, nothing checked beyond it).", discussion: "Example: cvault backup inspect nightly.cvbackup --json")

        @Argument(help: ArgumentHelp("The backup file.", valueName: "file")) var file: String
        @Flag(help: "Print machine-readable JSON.") var json = false

        func run() async throws {
            let header = try CustomerVault.inspectBackup(file)
            if json { try Output.json(header); return }
            Output.line("""
                format      \(header.formatVersion)
                vault       \(header.vaultID)
                created     \(header.createdAt)
                backup key  \(header.keyID) (version \(header.keyVersion))
                chunks of   \(header.chunkSize) bytes
                snapshot    \(header.snapshotBytes) bytes
                """)
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Restore a backup into a vault file, checked before it replaces anything.",
            discussion: """
                The backup is decrypted into a temporary file beside PATH and checked: every chunk and the \
                final tag, SQLite's integrity check, the vault id, the schema version and the whole access \
                log chain. It is then opened as --principal with that principal's existing credential (its \
                restored role must allow vault.restore) and the restore is logged in it. Only then is it \
                renamed to PATH. On any failure nothing is written.

                The backup key comes from --backup-key-file, or else from the vault at --vault (a key \
                custodian's keyring; that vault logs the key's use). With --force an existing vault at PATH \
                is replaced: stop every process using it first.

                Example: cvault backup restore nightly.cvbackup --to restored.vault
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The backup file.", valueName: "file")) var file: String
        @Option(help: ArgumentHelp("Where to write the restored vault.", valueName: "path")) var to: String
        @Flag(help: "Replace an existing vault at --to.") var force = false
        @Option(help: ArgumentHelp("A recovery key file from `cvault backup export-key`.", valueName: "file")) var backupKeyFile: String?
        @Option(name: .customLong("ledger"), help: ArgumentHelp("An erasure ledger file to re-apply (repeatable); PATH.erasures and the source vault's are read anyway.", valueName: "file"))
        var ledgers: [String] = []

        func run() async throws {
            _ = try CustomerVault.inspectBackup(file)  // a missing or foreign file fails before any prompt
            let credential = try global.credential(confirm: false)
            let key: BackupKey
            if let backupKeyFile {
                key = try BackupKey.recoveryFile(at: backupKeyFile)
            } else {
                let source = try await CustomerVault.open(at: try global.vaultPath, principal: global.principalName, credential: credential)
                defer { try? source.close() }
                key = try await source.backups.key(for: file)
            }
            let bar = ProgressBar(label: "restore")
            var ledgers = ledgers
            if backupKeyFile == nil, let source = try? global.vaultPath, source != to,
               FileManager.default.fileExists(atPath: source + ".erasures") {
                ledgers.append(source + ".erasures")
            }
            let report = try await CustomerVault.restoreBackup(file, to: to, force: force, key: key, principal: global.principalName,
                                                               credential: credential, ledgers: ledgers) { bar.update(bytes: $0.done, of: $0.total) }
            bar.finish()
            if global.json { try Output.json(report); return }
            Output.line("restored \(file) to \(to): \(report.backup.chunks) chunks, access log of \(report.auditEntries) entries verified, "
                        + "\(report.erasuresReapplied) erasures re-applied\(report.replacedExisting ? " (replaced the vault that was there)" : "")")
        }
    }

    struct ExportKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-key",
            abstract: "Write the backup key to a new recovery key file (key custodians).",
            discussion: """
                The file (mode 0600) opens every backup of this vault without the vault: keep it offline \
                and apart from the backups. Its export is logged.

                Example: cvault backup export-key --key-file-out recovery.key
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The recovery key file to create (never overwritten).", valueName: "file")) var keyFileOut: String

        func run() async throws {
            let vault = try await global.openVault()
            try await vault.backups.exportKey(to: keyFileOut)
            if global.json { try Output.json(["recovery_key_file": keyFileOut]); return }
            Output.line("backup key written to \(keyFileOut); keep it offline, apart from the backups")
        }
    }
}
