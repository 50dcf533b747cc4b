import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct KeysCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keys",
            abstract: "Show, rotate and retire data keys (keys.rotate; key custodians).",
            discussion: """
                Rotation creates new key versions for personal fields, grants them to every principal \
                whose role needs them, and re-encrypts every value and rebuilds every blind-index entry \
                in batches, one transaction each. The vault stays usable throughout. An interrupted \
                rotation (Ctrl-C, kill -9, power loss) is finished with `cvault keys rotate --resume`. \
                `keys retire` then destroys the old versions, so old copies of the database no longer \
                open with current keyrings.
                """,
            subcommands: [Status.self, Rotate.self, Retire.self])
    }
}

extension CVault.KeysCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Per field: the current key version and what each version still protects.", discussion: "Example: cvault keys status --json")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let vault = try await global.openVault()
            let report = try await vault.keys.status()
            if global.json { try Output.json(report); return }
            for field in report.fields {
                let values = field.valuesByVersion.sorted { $0.key < $1.key }.map { "v\($0.key): \($0.value)" }.joined(separator: ", ")
                let index = field.indexEntriesByVersion.sorted { $0.key < $1.key }.map { "v\($0.key): \($0.value)" }.joined(separator: ", ")
                let older = field.liveOlderVersions.isEmpty ? "" : "  older live versions: \(field.liveOlderVersions.map { "v\($0)" }.joined(separator: ", "))"
                Output.line("\(field.field)\tcurrent v\(field.currentVersion)\tvalues \(values.isEmpty ? "none" : values)"
                            + (index.isEmpty ? "" : "\tindex \(index)") + older)
            }
            if let rotating = report.rotationInProgress {
                Output.line("rotation in progress: \(rotating.joined(separator: ", ")) (finish with `cvault keys rotate --resume`)")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Rotate the keys of personal fields and re-encrypt their values.",
            discussion: """
                Examples:
                  cvault keys rotate --all
                  cvault keys rotate --field email --field phone
                  cvault keys rotate --resume        # after an interruption
                """)

        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("field"), help: ArgumentHelp("A personal field (email or customers.email), repeatable.", valueName: "field"))
        var fields: [String] = []
        @Flag(help: "Rotate every personal field.") var all = false
        @Flag(help: "Finish an interrupted rotation.") var resume = false
        @Option(help: "Values per transaction.") var batch = CustomerVault.defaultRotationBatchSize

        func validate() throws {
            let modes = [all, resume, !fields.isEmpty].filter { $0 }.count
            guard modes == 1 else { throw ValidationError("give exactly one of --all, --field F (repeatable) or --resume") }
        }

        func run() async throws {
            let vault = try await global.openVault()
            let bar = ProgressBar(label: resume ? "resume rotation" : "rotate keys")
            let report: RotationReport
            do {
                report = try await vault.keys.rotate(fields: fields, resume: resume, batchSize: batch) { progress in
                    bar.update(done: progress.done, total: progress.total, unit: "values re-sealed")
                }
            } catch let error as VaultError where resume && error.code == .notFound {
                // Nothing interrupted: the state asked for (no rotation in progress) holds already.
                if global.json { try Output.json(["resumed": false]) } else { Output.note("nothing to resume: no rotation is in progress") }
                return
            }
            bar.finish()
            if global.json { try Output.json(report); return }
            let versions = report.versions.sorted { $0.key < $1.key }.map { "\($0.key) v\($0.value)" }.joined(separator: ", ")
            Output.line("rotated \(versions); \(report.reencrypted) values re-encrypted\(report.resumed ? " (resumed)" : "")")
            Output.note("old versions stay until `cvault keys retire`")
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire",
            abstract: "Destroy older key versions that nothing uses any more (refuses otherwise, naming the count).", discussion: "Example: cvault keys retire --field customers.email")

        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("field"), help: ArgumentHelp("Only this field, repeatable (default: all).", valueName: "field"))
        var fields: [String] = []

        func run() async throws {
            let vault = try await global.openVault()
            let retired = try await vault.keys.retire(fields: fields)
            if global.json { try Output.json(retired); return }
            if retired.isEmpty { Output.line("no older key version to retire"); return }
            for key in retired { Output.line("retired \(key.field)/\(key.purpose)/v\(key.version)") }
        }
    }
}
