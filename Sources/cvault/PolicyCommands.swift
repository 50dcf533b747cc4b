import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct PolicyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy",
            abstract: "Check, show, explain and apply access policies.",
            discussion: """
                A policy (YAML, see policies/default.yaml) defines purposes and roles. For each role: \
                allowed and denied actions (deny wins; deny by default), per personal field a view \
                (plain, masked or none) with write and search rights, and row conditions on plain \
                customer attributes. The policy in force is stored in the vault, signed by its root key.
                """,
            subcommands: [Check.self, Show.self, Explain.self, Apply.self])
    }
}


extension CVault.PolicyCommand {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate policy files; print every problem as file:line: message.",
            discussion: """
                Checks against --schema FILE, or the schema stored in --vault, or the shipped schema. \
                Without FILE, checks the policy stored in --vault. Exit 0 when all are valid, 2 otherwise.

                Example: cvault policy check policies/default.yaml
                """)

        @Option(name: .long, help: ArgumentHelp("Vault whose schema (and, without FILE, policy) to use.", valueName: "path"))
        var vault: String?
        @Option(help: ArgumentHelp("Schema file to check against.", valueName: "file")) var schema: String?
        @Flag(help: "Print machine-readable JSON.") var json = false
        @Argument(help: "Policy files.") var files: [String] = []

        func run() async throws {
            // An explicit --vault must exist; CVAULT_VAULT is only used when it names an existing file,
            // so a shell that exports it for a vault not created yet can still check files.
            let environmentVault = ProcessInfo.processInfo.environment["CVAULT_VAULT"].flatMap {
                !$0.isEmpty && FileManager.default.fileExists(atPath: $0) ? $0 : nil
            }
            let vaultPath = vault ?? environmentVault
            var stored: (schema: Schema, policy: Policy)?
            if let vaultPath { stored = try await CustomerVault.storedPolicy(at: vaultPath) }
            let schema = try self.schema.map(Schema.load(fileAt:)) ?? stored?.schema ?? Schema.shippedDefault()
            guard !files.isEmpty else {
                guard let stored else { throw ValidationError("give policy files to check, or --vault to check the stored policy") }
                if json { try Output.json([PolicyCheckResult(file: "stored policy", valid: true, errors: [])]) } else {
                    Output.line("stored policy: ok (\(stored.policy.roles.count) roles)")
                }
                return
            }
            var results: [PolicyCheckResult] = []
            var failures = 0
            for file in files {
                do {
                    let policy = try Policy.load(fileAt: file, schema: schema)
                    results.append(PolicyCheckResult(file: file, valid: true, errors: []))
                    if !json { Output.line("\(file): ok (\(policy.roles.count) roles, \(policy.purposes.count) purposes)") }
                } catch let error as VaultError {
                    failures += 1
                    results.append(PolicyCheckResult(file: file, valid: false, errors: error.message.split(separator: "\n").map(String.init)))
                    if !json { for line in error.message.split(separator: "\n") { Output.error(String(line)) } }
                }
            }
            if json { try Output.json(results) }
            if failures > 0 { throw ExitCode(2) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the policy in force in a vault (no credential needed).", discussion: "Example: cvault policy show --vault crm.vault > policy-in-force.yaml")

        @Option(name: .long, help: ArgumentHelp("Path of the vault file (or CVAULT_VAULT).", valueName: "path")) var vault: String?

        func run() async throws {
            Output.line(try await CustomerVault.storedPolicy(at: try GlobalOptions.vaultPath(vault)).policy.source)
        }
    }

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Explain whether a principal may do an action, and the rule that decides.",
            discussion: """
                Needs no credential: roles, attributes and the policy are not secret. Exit 0 when \
                allowed, 3 when denied.

                Example: cvault policy explain --principal alice --action customer.read --field address --customer 42
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "The action (customer.read, export, …; see policies/default.yaml).") var action: String
        @Option(help: "A personal field (customers.email, or email).") var field: String?
        @Option(help: "A customer id, to evaluate the role's row conditions.") var customer: Int64?

        func run() async throws {
            guard let action = VaultAction(rawValue: action), VaultAction.grantable.contains(action) else {
                throw ValidationError("unknown action '\(action)' (actions: \(VaultAction.grantable.map(\.rawValue).joined(separator: ", ")))")
            }
            let explanation = try await CustomerVault.explain(
                at: try global.vaultPath, principal: global.principalName, action: action, field: field, customerID: customer,
                purpose: global.purpose)
            if global.json {
                try Output.json(explanation)
            } else {
                Output.line("\(explanation.allowed ? "allow" : "deny"): \(explanation.principal) (role \(explanation.role)) \(explanation.action)")
                Output.line("  rule: \(explanation.rule)")
                if let field = explanation.field, let view = explanation.view {
                    Output.line("  field \(field): view \(view.rawValue), write \(explanation.write ?? false), search \(explanation.search ?? false)")
                }
                if let customer = explanation.customer, let rowRule = explanation.rowRule {
                    Output.line("  customer \(customer): \(explanation.customerVisible == true ? "visible" : "not visible"); \(rowRule)")
                }
            }
            if !explanation.allowed { throw ExitCode(3) }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Make a policy file the one in force and re-provision every keyring to match (needs principals.manage).",
            discussion: """
                All or nothing: an invalid file, or one without a role some principal has, changes \
                nothing and the vault keeps its current policy. Prints the keys added and removed \
                per principal.

                Example: cvault policy apply my-policy.yaml
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The policy file.") var file: String

        func run() async throws {
            let vault = try await global.openVault()
            let changes = try await vault.principals.applyPolicy(yaml: try Policy.readText(fileAt: file), fileName: file)
            if global.json { try Output.json(changes); return }
            Output.line("applied \(file)")
            for change in changes where change.added > 0 || change.removed > 0 {
                Output.line("  \(change.principal): +\(change.added) keys, -\(change.removed) keys")
            }
            if !changes.contains(where: { $0.added > 0 || $0.removed > 0 }) { Output.line("  no keyring changed") }
        }
    }
}

extension CVault {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Counts and sums over plain attributes (report.aggregate): regions, age bands, orders, behaviour.", discussion: "Example: cvault report --json")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let vault = try await global.openVault()
            let report = try await vault.reports.aggregate()
            if global.json { try Output.json(report); return }
            Output.line("customers: \(report.customers)")
            for (region, count) in report.byRegion.sorted(by: { $0.key < $1.key }) { Output.line("  region \(region): \(count)") }
            for (band, count) in report.byAgeBand.sorted(by: { $0.key < $1.key }) { Output.line("  age band \(band): \(count)") }
            Output.line("transactions: \(report.transactions)")
            for (currency, sum) in report.amountByCurrency.sorted(by: { $0.key < $1.key }) { Output.line("  \(currency): \(sum)") }
            Output.line("behaviour: browse \(report.behaviour.browse), purchase \(report.behaviour.purchase), review \(report.behaviour.review)")
        }
    }
}

/// One file's outcome in `cvault policy check --json`.
struct PolicyCheckResult: Encodable {
    var file: String
    var valid: Bool
    /// Every problem, `file:line: message`.
    var errors: [String]
}
