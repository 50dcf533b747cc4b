import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct ErasuresCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erasures",
            abstract: "Show or export the erasure ledger (audit.read): ids and times, no personal data.",
            discussion: """
                Every `cvault customer erase` is recorded in the vault and in VAULT.erasures beside it. A restore \
                re-applies the ledger, so keep a copy with your backups: `cvault erasures export --output FILE`, \
                then `cvault backup restore … --ledger FILE`.
                """,
            subcommands: [List.self, Export.self])
    }
}

extension CVault.ErasuresCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the erasures recorded in the vault.", discussion: "Example: cvault erasures list --json")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let entries = try await global.openVault().privacy.erasureLedger()
            if global.json { try Output.json(entries); return }
            if entries.isEmpty { Output.line("no erasure recorded"); return }
            for entry in entries {
                Output.line("customer \(entry.customer)\terased \(entry.erasedAt)\tby \(entry.principal)\(entry.purpose.map { " (\($0))" } ?? "")\ttransactions \(entry.transactions)")
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Write the ledger as a ledger file (JSON Lines) for `backup restore --ledger`.", discussion: "Example: cvault erasures export --output ledger.jsonl")

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The ledger file to create (mode 0600; never over a file without --force).", valueName: "file")) var output: String
        @Flag(help: "Replace an existing --output file (atomically).") var force = false

        func validate() throws {
            // The ledger file's format is what `backup restore --ledger` reads; there is nothing else to print.
            if global.json { throw ValidationError("erasures export writes a ledger file and prints nothing: leave out --json (`cvault erasures list --json` prints the ledger)") }
        }

        func run() async throws {
            let entries = try await global.openVault().privacy.erasureLedger()
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            var data = Data()
            for entry in entries { data += try encoder.encode(entry) + Data("\n".utf8) }
            let file = try PrivateOutputFile(path: output, replace: force)
            do {
                try file.write(data)
                try file.commit()
            } catch {
                file.discard()
                throw error
            }
            Output.line("\(entries.count) erasures written to \(output)")
        }
    }
}
