import ArgumentParser
import CustomerVault
import Foundation
import Logging

/// `cvault`: the command-line face of the customer vault. Each command parses, makes one call into
/// the CustomerVault library, and prints.
struct CVault: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cvault",
        abstract: "An encrypted, access-controlled customer vault.",
        discussion: """
            Every personal value is sealed with XChaCha20-Poly1305 before it reaches SQLite; search \
            uses keyed blind indexes; every access is written to a signed, hash-chained log.

            Secrets never go on the command line: the passphrase comes from CVAULT_PASSPHRASE, \
            --passphrase-file FILE, --key-file FILE, or a prompt that does not echo.

            Every request passes the vault's access policy (see `cvault policy --help`): a role \
            sees each personal field in plain, masked or not at all, holds only the keys for that, \
            and may need --purpose NAME for a grant.

            Environment: CVAULT_VAULT (vault path), CVAULT_PRINCIPAL (principal name), \
            CVAULT_PASSPHRASE, CVAULT_KEY_FILE, CVAULT_PURPOSE, CVAULT_NEW_PASSPHRASE (for principal add/passwd), CVAULT_LOG_LEVEL (trace, debug, info, notice, \
            warning (default), error, critical; logs go to standard error and never hold values).

            Exit codes: 0 ok, 1 other error, 2 usage or bad input, 3 access denied, \
            4 bad credential, 5 not found, 6 integrity failure (tampered or corrupt data).
            """,
        version: "0.1.0",
        subcommands: [Init.self, CustomerCommand.self, Import.self, Export.self, Report.self, PrincipalCommand.self, PolicyCommand.self,
                      AuditCommand.self, SchemaCommand.self, KeysCommand.self, BackupCommand.self, ErasuresCommand.self, RetentionCommand.self, Dedupe.self,
                      Verify.self]
    )
}

@main
enum Main {
    static func main() async {
        Hardening.apply()
        let level = ProcessInfo.processInfo.environment["CVAULT_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Errors follow --json too (on stderr), so a script never parses English.
        let json = arguments.prefix { $0 != "--" }.contains("--json")
        do {
            var command: any ParsableCommand
            do {
                if let leaf = CommandLineFastPath.parse(arguments) {
                    command = leaf
                } else {
                    command = try CVault.parseAsRoot(arguments)
                }
            } catch {
                // Only a refused command line pays for the usage check (it builds help screens):
                // it names the mistyped command or option, or leaves ArgumentParser's message.
                try UsageCheck.check(arguments)
                throw error
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let problem as UsageCheck.Problem {
            ErrorOutput.usage(problem.message, usage: UsageCheck.usage(of: problem.command), json: json)
            exit(2)
        } catch let error as VaultError {
            ErrorOutput.vault(error, json: json)
            exit(ErrorOutput.exitCode(error.code))
        } catch {
            let code = CVault.exitCode(for: error)
            if code == .validationFailure {
                // ArgumentParser uses EX_USAGE (64); cvault documents 2 for usage errors.
                ErrorOutput.usage(ErrorOutput.argumentMessage(error), usage: ErrorOutput.argumentUsage(error), json: json)
                exit(2)
            }
            CVault.exit(withError: error)
        }
    }
}

/// The command a command line names, parsed by that command alone.
///
/// `CVault.parseAsRoot` builds the argument sets of the whole command tree (about 5 ms of a
/// 40 ms lookup) before it looks at the first word. A command line that starts with the path of a
/// leaf command (`customer find …`) is parsed by that leaf: the same parser over the same words,
/// without the tree. Anything else, or anything the leaf refuses (`--help`, a typo, a missing
/// option), is left to the full parse, which gives the usual help and messages.
enum CommandLineFastPath {
    static func parse(_ arguments: [String]) -> (any ParsableCommand)? {
        var command: any ParsableCommand.Type = CVault.self
        var depth = 0
        while depth < arguments.count {
            let word = arguments[depth]
            guard let sub = command.configuration.subcommands.first(where: {
                $0._commandName == word || $0.configuration.aliases.contains(word)
            }) else { break }
            command = sub
            depth += 1
        }
        guard depth > 0, command.configuration.subcommands.isEmpty else { return nil }
        // `--help` parses to a help command (for the leaf as if it were the root): the full parse's.
        guard let parsed = try? command.parseAsRoot(Array(arguments[depth...])), type(of: parsed) == command else { return nil }
        return parsed
    }
}

enum Hardening {
    /// No core dumps: a core file would hold unwrapped keys and personal data.
    static func apply() {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
    }
}
