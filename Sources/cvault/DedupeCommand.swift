import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct Dedupe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dedupe",
            abstract: "List groups of probable duplicate customers (customer.list).",
            discussion: """
                Customers are linked when they have the same phone (after normalisation, so "020 7946 0123" and \
                "+44 20 7946 0123" match), or the same name (case and spacing ignored) with the same birth date \
                or address. A link is used only if your role sees its fields in plain. E-mails are unique already. \
                Candidates come from the blind indexes and are confirmed on the values, so an index collision never \
                makes a group. The run is logged with the ids it grouped.

                Example: cvault dedupe --json
                """)

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let groups = try await global.openVault().privacy.findDuplicates()
            if global.json { try Output.json(groups); return }
            if groups.isEmpty { Output.line("no probable duplicates"); return }
            for group in groups {
                Output.line("customers \(group.customers.map(String.init).joined(separator: ", "))\t(\(group.links.joined(separator: ", ")))")
            }
            Output.note("\(groups.count) groups")
        }
    }
}
