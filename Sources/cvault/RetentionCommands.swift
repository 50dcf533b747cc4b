import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct RetentionCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retention",
            abstract: "Remove what has outlived the policy's retention periods (subject.erase).",
            discussion: """
                The policy's `retention` section sets how long interactions, transactions and inactive customers \
                are kept (for example 2y, 10y, 5y). Interactions and transactions past their period are removed; \
                customers with no update, transaction or interaction within theirs are erased, with ledger entries, \
                as `cvault customer erase` does. Run with --dry-run first: it counts the same records and changes \
                nothing. Both are in the access log.

                Examples:
                  cvault retention apply --dry-run --principal dpo --purpose legal_request
                  cvault retention apply --principal dpo --purpose legal_request
                """,
            subcommands: [Apply.self])
    }
}

extension CVault.RetentionCommand {
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "apply", abstract: "Show (--dry-run) or apply what falls out of retention.", discussion: "Example: cvault retention apply --dry-run --principal dpo --purpose legal_request")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Count what would be removed; change nothing.") var dryRun = false

        func run() async throws {
            let report = try await global.openVault().privacy.applyRetention(dryRun: dryRun)
            if global.json { try Output.json(report); return }
            if report.items.isEmpty { Output.line("the policy sets no retention period; nothing to do"); return }
            for item in report.items {
                let verb = item.kind == .inactiveCustomers ? (dryRun ? "would be erased" : "erased") : (dryRun ? "would be removed" : "removed")
                Output.line("\(item.kind.rawValue)\tkept \(item.period)\tolder than \(item.cutoff)\t\(item.count) \(verb)")
            }
        }
    }
}
