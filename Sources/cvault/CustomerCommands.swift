import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct CustomerCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "customer",
            abstract: "Add, read, search, change and delete customers.",
            subcommands: [Add.self, Get.self, Find.self, Update.self, Delete.self, List.self, History.self, Behaviour.self,
                          Erase.self, ExportSubject.self, Merge.self])
    }
}

/// Field options shared by `customer add` and `customer update`.
struct CustomerFieldOptions: ParsableArguments {
    @Option(help: "Full name.") var name: String?
    @Option(help: "E-mail address (unique; stored lower-cased).") var email: String?
    @Option(help: "Phone number: international (+44 20 7946 0123), or national in --country (else the schema's default_country).") var phone: String?
    @Option(help: "Postal address.") var address: String?
    @Option(help: "Age in years (or give --birth-date).") var age: Int?
    @Option(help: ArgumentHelp("Birth date.", valueName: "YYYY-MM-DD")) var birthDate: String?
    @Option(help: "Gender.") var gender: String?
    @Option(help: "Region (a plain attribute, e.g. EU).") var region: String?
    @Option(help: "Country (a plain attribute, ISO 3166: GB, DEU, France); national phone numbers are read in it.") var country: String?
    @Option(name: .customLong("field"), help: ArgumentHelp("Any schema field, repeatable.", valueName: "key=value"))
    var fields: [String] = []

    func validate() throws {
        if age != nil && birthDate != nil { throw ValidationError("give --age or --birth-date, not both") }
    }

    var values: [String: String] {
        get throws {
            var values: [String: String] = [:]
            let named: [(String, String?)] = [("name", name), ("email", email), ("phone", phone), ("address", address),
                                               ("age", age.map(String.init)), ("birth_date", birthDate), ("gender", gender), ("region", region),
                                               ("country", country)]
            for case let (key, value?) in named { values[key] = value }
            try FieldPairs.add(fields, to: &values)
            return values
        }
    }
}

extension CVault.CustomerCommand {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a customer and print its id.",
            discussion: "Example: cvault customer add --name 'Ada Lovelace' --email ada@example.com --phone '020 7946 0123' --country GB --region UK")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var input: CustomerFieldOptions

        func run() async throws {
            let values = try input.values
            let vault = try await global.openVault()
            let id = try await vault.customers.add(values)
            if global.json { try Output.json(["id": id]) } else { Output.line(String(id)) }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Show one or more customers.",
            discussion: """
                Several ids are read in one process (one unlock), each read audited. With --json, one id \
                prints an object and several print an array, in the order given.

                Example: cvault customer get 42 43 44 --json
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer ids.") var ids: [Int64]

        func validate() throws {
            guard !ids.isEmpty else { throw ValidationError("give at least one customer id") }
            guard ids.count <= 100_000 else { throw ValidationError("at most 100000 ids per call") }
        }

        func run() async throws {
            let vault = try await global.openVault()
            var records: [CustomerRecord] = []
            for id in ids { records.append(try await vault.customers.get(id)) }
            if global.json {
                if records.count == 1 { try Output.json(records[0]) } else { try Output.json(records) }
            } else {
                for (index, record) in records.enumerated() {
                    if index > 0 { Output.line("") }
                    Output.customer(record, schema: vault.schema)
                }
            }
        }
    }

    struct Find: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "find",
            abstract: "Find customers by e-mail, phone or name (exact match after normalisation).",
            discussion: """
                E-mail is compared trimmed and lower-cased, phone in E.164, names case-folded with \
                whitespace collapsed.

                Many values in one process (one unlock, one audited transaction whose access-log entry \
                holds a keyed digest of each value): repeat --email, --phone or --name, or give \
                --from FILE (one value a line, or with --column the named column of a CSV file; - reads \
                standard input) with --by for the field. With more than one value, the output lists each \
                value with its matches (--json: an array of {"query", "matches"} in the order given) and \
                the exit status is 5 only when no value matched.

                Examples:
                  cvault customer find --phone '+44 20 7946 0123'
                  cvault customer find --email a@example.com --email b@example.com --json
                  cvault customer find --from emails.txt --by email --json
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "E-mail address (repeatable).") var email: [String] = []
        @Option(help: "Phone number (repeatable).") var phone: [String] = []
        @Option(help: "Full name (repeatable).") var name: [String] = []
        @Option(help: ArgumentHelp("Read the values from this file (- for standard input).", valueName: "file")) var from: String?
        @Option(help: ArgumentHelp("The field the values of --from are: email, phone or name.", valueName: "field")) var by: String?
        @Option(help: ArgumentHelp("Read --from as CSV with a header and take this column.", valueName: "name")) var column: String?
        @Option(help: ArgumentHelp("Read national phone numbers in this country (ISO 3166: GB, DEU, France).", valueName: "country"))
        var country: String?

        func validate() throws {
            let given = [("email", email), ("phone", phone), ("name", name)].filter { !$0.1.isEmpty }
            if from == nil {
                guard given.count == 1 else { throw ValidationError("give exactly one of --email, --phone or --name (each repeatable), or --from FILE") }
                guard by == nil && column == nil else { throw ValidationError("--by and --column go with --from") }
            } else {
                guard given.isEmpty else { throw ValidationError("give either --from or --email/--phone/--name, not both") }
                guard let by, ["email", "phone", "name"].contains(by) else {
                    throw ValidationError("--from needs --by email, --by phone or --by name\(Suggestion.didYouMean(by ?? "", among: ["email", "phone", "name"]))")
                }
            }
        }

        func run() async throws {
            let (field, values) = try queries()
            let vault = try await global.openVault()
            let results: [String: [CustomerRecord]]
            do {
                results = try await vault.customers.find(field: field, anyOf: values, country: country)
            } catch let error as VaultError where error.code == .invalidInput && error.message.hasPrefix("\(field): search value") {
                // Name the flag or the line the value came from, never the value.
                let detail = error.message.dropFirst("\(field): search value ".count)
                throw VaultError(.invalidInput, from == nil ? "--\(field) value \(detail)" : "\(from ?? "") value \(detail) (values counted from 1, empty lines skipped)")
            }
            if values.count == 1 && from == nil {
                let matches = results[values[0]] ?? []
                if global.json {
                    try Output.json(matches)
                } else if matches.isEmpty {
                    Output.note("no customer matches")
                } else {
                    for (index, record) in matches.enumerated() {
                        if index > 0 { Output.line("") }
                        Output.customer(record, schema: vault.schema)
                    }
                }
                if matches.isEmpty { throw ExitCode(5) }
                return
            }
            struct Answer: Encodable { var query: String; var matches: [CustomerRecord] }
            let answers = values.map { Answer(query: $0, matches: results[$0] ?? []) }
            if global.json {
                try Output.json(answers)
            } else {
                for answer in answers {
                    Output.line("== \(answer.query): \(answer.matches.count) match\(answer.matches.count == 1 ? "" : "es")")
                    for record in answer.matches { Output.customer(record, schema: vault.schema) }
                }
                Output.note("\(answers.filter { !$0.matches.isEmpty }.count) of \(answers.count) values matched")
            }
            if answers.allSatisfy({ $0.matches.isEmpty }) { throw ExitCode(5) }
        }

        /// The field and the values to look up, in the order given.
        private func queries() throws -> (String, [String]) {
            if !email.isEmpty { return ("email", email) }
            if !phone.isEmpty { return ("phone", phone) }
            if !name.isEmpty { return ("name", name) }
            guard let from, let by else { throw ValidationError("nothing to look up") }
            let data: Data
            if from == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let contents = FileManager.default.contents(atPath: from) else { throw VaultError(.notFound, "no file \(from)") }
                data = contents
            }
            guard let column else {
                let values = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
                    .filter { !$0.allSatisfy(\.isWhitespace) }
                guard !values.isEmpty else { throw VaultError(.invalidInput, "\(from) holds no value") }
                return (by, values)
            }
            let reader = CSVReader(data: data)
            guard let header = try reader.next() else { throw VaultError(.invalidInput, "\(from) is empty") }
            let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let index = names.firstIndex(of: column.lowercased()) else {
                throw VaultError(.invalidInput, "\(from) has no column '\(column)'\(Suggestion.didYouMean(column.lowercased(), among: names)) (columns: \(names.joined(separator: ",")))")
            }
            var values: [String] = []
            while let record = try reader.next() {
                guard index < record.fields.count else { throw VaultError(.invalidInput, "\(from) line \(record.line): has no column \(index + 1)") }
                if !record.fields[index].allSatisfy(\.isWhitespace) { values.append(record.fields[index]) }
            }
            guard !values.isEmpty else { throw VaultError(.invalidInput, "\(from) holds no value in column '\(column)'") }
            return (by, values)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update",
            abstract: "Change or remove fields of a customer.",
            discussion: "Example: cvault customer update 42 --phone '+33 1 23 45 67 89' --remove gender")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id.") var id: Int64
        @OptionGroup var input: CustomerFieldOptions
        @Option(name: .customLong("remove"), help: ArgumentHelp("Clear a field, repeatable.", valueName: "field"))
        var remove: [String] = []

        func run() async throws {
            let values = try input.values
            guard !values.isEmpty || !remove.isEmpty else { throw ValidationError("nothing to update: give field options or --remove") }
            let vault = try await global.openVault()
            try await vault.customers.update(id, set: values, remove: remove)
            let changed = Set(values.keys).union(remove).sorted()
            if global.json { try Output.json(UpdateResult(id: id, updated: changed)) } else { Output.line("updated customer \(id)") }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete a customer with its transactions, interactions and behaviour counters.", discussion: "Example: cvault customer delete 42")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id.") var id: Int64

        func run() async throws {
            let vault = try await global.openVault()
            try await vault.customers.delete(id)
            if global.json { try Output.json(DeleteResult(id: id, deleted: true)) } else { Output.line("deleted customer \(id)") }
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erase",
            abstract: "Erase a customer for good (subject.erase; role dpo, with a purpose) and print the receipt.",
            discussion: """
                Removes every personal value, blind-index entry, interaction and behaviour counter of the \
                customer; transactions are kept pseudonymised or removed as the policy's erasure.transactions \
                says. The erasure is recorded, without personal data, in the vault's ledger and in the file \
                VAULT.erasures beside it: keep that file with your backups. Restoring a backup taken before the \
                erasure applies it again, so the person never comes back.

                Example:
                  cvault customer erase 42 --principal dpo --purpose subject_request --reason "request 2026-117"
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id.") var id: Int64

        func run() async throws {
            let vault = try await global.openVault()
            let receipt = try await vault.privacy.erase(id)
            if global.json { try Output.json(receipt); return }
            let entry = receipt.entry
            Output.line("""
                erasure receipt
                  vault         \(entry.vaultID)
                  customer      \(entry.customer)
                  erased at     \(entry.erasedAt) by \(entry.principal)\(entry.purpose.map { " for \($0)" } ?? "")
                  removed       \(entry.removed.sealedValues) sealed values, \(entry.removed.indexEntries) index entries, \(entry.removed.interactions) interactions, behaviour \(entry.removed.behaviour)
                  transactions  \(entry.removed.transactions) \(entry.transactions.replacingOccurrences(of: "_", with: " "))
                  ledger        \(receipt.ledgerFile ?? "inside the vault only")
                  WAL cleared   \(receipt.walCleared ? "yes" : "no")
                """)
            if let warning = receipt.warning { Output.note(warning + " (`cvault erasures export --output FILE`)") }
        }
    }

    struct ExportSubject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-subject",
            abstract: "Everything the vault holds about one person, as one JSON document (subject.export).",
            discussion: """
                Fields, consents, transactions, interactions, behaviour counters and the access-log entries about \
                the person, in the structure cvault.subject-export.v1 (SECURITY.md). The file is created with \
                mode 0600, never through a symbolic link, and never over an existing file unless --force.

                Example:
                  cvault customer export-subject 42 --output subject-42.json --principal dpo --purpose subject_request
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id.") var id: Int64
        @Option(help: ArgumentHelp("Write the document here instead of standard output.", valueName: "file")) var output: String?
        @Flag(help: "Replace an existing --output file (atomically).") var force = false

        func run() async throws {
            let vault = try await global.openVault()
            let export = try await vault.privacy.exportSubject(id)
            let encoder = Output.encoder
            encoder.outputFormatting.insert(.prettyPrinted)
            let data = try encoder.encode(export)
            guard let output else {
                FileHandle.standardOutput.write(data + Data("\n".utf8))
                return
            }
            let file = try PrivateOutputFile(path: output, replace: force)
            do {
                try file.write(data + Data("\n".utf8))
                try file.commit()
            } catch {
                file.discard()
                throw error
            }
            Output.note("subject export of customer \(id) written to \(output)")
        }
    }

    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge",
            abstract: "Merge a duplicate into the customer to keep (customer.delete).",
            discussion: """
                DROP's transactions and interactions move to KEEP, its behaviour counters are added to KEEP's, \
                and DROP is deleted with its values. Values KEEP lacks are not copied: update KEEP first. \
                Find candidates with `cvault dedupe`.

                Example:
                  cvault customer merge 1042 98311
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The customer to keep.") var keep: Int64
        @Argument(help: "The duplicate to merge into it and delete.") var drop: Int64

        func run() async throws {
            let report = try await global.openVault().privacy.merge(keep: keep, drop: drop)
            if global.json { try Output.json(report); return }
            Output.line("merged customer \(drop) into \(keep): \(report.transactionsMoved) transactions and \(report.interactionsMoved) interactions moved")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List customers in id order.", discussion: "Example: cvault customer list --limit 20 --after 100 --json")

        @OptionGroup var global: GlobalOptions
        @Option(help: "How many customers to show (1 to 10000).") var limit = 50
        @Option(help: "Show customers with ids after this one (for paging).") var after: Int64 = 0

        func run() async throws {
            let vault = try await global.openVault()
            let records = try await vault.customers.list(limit: limit, after: after)
            if global.json {
                try Output.json(records)
            } else {
                for record in records {
                    let summary = ["name", "email", "phone", "region"].compactMap { record.fields[$0] }.joined(separator: "  ")
                    Output.line("\(record.id)  \(summary)")
                }
            }
        }
    }
}

extension CVault.CustomerCommand {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "Show a customer's transactions or interactions, or add one.",
            discussion: """
                Examples:
                  cvault customer history 42 --kind interactions
                  cvault customer history add 42 --kind transactions --field order_id=A-1001 --field "order_time=2026-05-01 10:00" \\
                      --field "payment_method=Credit Card" --field amount=12.50 --field currency=EUR
                """,
            subcommands: [Show.self, Add.self], defaultSubcommand: Show.self)

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Show a customer's transactions or interactions, oldest first (the default).",
                discussion: "Example: cvault customer history 42 --kind interactions")

            @OptionGroup var global: GlobalOptions
            @Argument(help: "Customer id.") var id: Int64
            @Option(help: "transactions or interactions.") var kind: HistoryKind = .transactions

            func run() async throws {
                let vault = try await global.openVault()
                let kind = self.kind.entity
                let records = try await vault.history.records(kind, customerID: id)
                if global.json {
                    try Output.json(records)
                } else {
                    let names = vault.schema.fields(of: kind).map(\.name)
                    for record in records {
                        let values = names.compactMap { name in record.fields[name].map { "\(name)=\($0.replacingOccurrences(of: "\n", with: " "))" } }
                        Output.line("\(record.id)  " + values.joined(separator: "  "))
                    }
                }
            }
        }

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "add",
                abstract: "Add a transaction or interaction to a customer and print its id.",
                discussion: """
                    Values are read as an import reads them (times without a zone in the schema's timezone, \
                    enumeration labels and aliases); a transaction whose order_id is stored already is refused.

                    Example: cvault customer history add 42 --kind interactions --field "occurred_at=2026-05-02 09:30" \\
                        --field channel=phone --field "summary=Asked about delivery"
                    """)

            @OptionGroup var global: GlobalOptions
            @Argument(help: "Customer id.") var id: Int64
            @Option(help: "transactions or interactions.") var kind: HistoryKind
            @Option(name: .customLong("field"), help: ArgumentHelp("A schema field of the kind, repeatable.", valueName: "key=value"))
            var fields: [String] = []

            func run() async throws {
                var values: [String: String] = [:]
                try FieldPairs.add(fields, to: &values)
                guard !values.isEmpty else { throw ValidationError("give the record's fields with --field key=value") }
                let vault = try await global.openVault()
                let record = try await vault.history.add(kind.entity, customerID: id, values: values)
                if global.json { try Output.json(HistoryAddResult(id: record, customerID: id, kind: kind.rawValue)) } else { Output.line(String(record)) }
            }
        }
    }

    struct Behaviour: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "behaviour",
            abstract: "Show a customer's behaviour counters, or add to them.",
            discussion: "Example: cvault customer behaviour 42 --browse 3 --purchase 1")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Customer id.") var id: Int64
        @Option(help: "Add to the browse count.") var browse = 0
        @Option(help: "Add to the purchase count.") var purchase = 0
        @Option(help: "Add to the review count.") var review = 0

        func run() async throws {
            let vault = try await global.openVault()
            let delta = BehaviourCounters(browse: browse, purchase: purchase, review: review)
            let counters = delta == BehaviourCounters()
                ? try await vault.history.behaviour(customerID: id)
                : try await vault.history.recordBehaviour(customerID: id, adding: delta)
            if global.json {
                try Output.json(counters)
            } else {
                Output.line("browse \(counters.browse)  purchase \(counters.purchase)  review \(counters.review)")
            }
        }
    }
}

/// The history a customer has: what `--kind` offers (customers are not history).
enum HistoryKind: String, ExpressibleByArgument, CaseIterable {
    case transactions, interactions

    var entity: Entity { self == .transactions ? .transactions : .interactions }
}

/// `cvault customer update --json`: the customer and the fields set or removed, sorted.
struct UpdateResult: Encodable {
    var id: Int64
    var updated: [String]
}

/// `cvault customer delete --json`.
struct DeleteResult: Encodable {
    var id: Int64
    var deleted: Bool
}

/// `cvault customer history add --json`.
struct HistoryAddResult: Encodable {
    var id: Int64
    var customerID: Int64
    var kind: String
}

/// `--field key=value` options.
enum FieldPairs {
    /// Adds each `key=value` to `values`, refusing a pair without a key or `=`, and a key given twice.
    static func add(_ pairs: [String], to values: inout [String: String], option: String = "--field", what: String = "field") throws {
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("\(option) takes key=value (got a value without '=' or without a key)")
            }
            let key = String(pair[..<equals])
            guard values[key] == nil else { throw ValidationError("\(what) \(key) is given twice") }
            values[key] = String(pair[pair.index(after: equals)...])
        }
    }
}
