public import ArgumentParser
import CustomerVault
import Foundation

extension Entity: ExpressibleByArgument {}
extension RecordKind: ExpressibleByArgument {}
extension FileFormat: ExpressibleByArgument {}
extension ImportMode: ExpressibleByArgument {}

/// What `cvault export` writes: one kind of record, or all of them into a directory.
enum ExportTarget: String, ExpressibleByArgument, CaseIterable {
    case customers, transactions, interactions, behaviour, all
}
extension CSVTextEncoding: ExpressibleByArgument {}

extension CVault {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import customers, transactions, interactions or behaviour from a CSV or JSON Lines file.",
            discussion: """
                Headers: customers name,email[,phone,address,age,birth_date,gender,region,country,…any schema \
                field]; transactions customer_email,order_id,order_time,payment_method,amount[,currency]; \
                interactions customer_email,occurred_at,channel,summary (with --restore, customer_id instead of \
                customer_email); behaviour customer_email (or customer_id),browse,purchase,review \
                [,updated_at] — its counts replace the stored ones. Column names match regardless of case, spaces \
                and hyphens ("Customer Email"). A .jsonl or .ndjson file (or --format jsonl) holds one JSON object \
                a line, with the same names as keys.

                What `cvault export` writes imports again. With --restore its id, created_at and updated_at \
                are given back and customer_id names this vault's customers, so an export imported into an \
                empty vault exports as the same files; an id this vault issued before is never reused (ids are \
                bound into ciphertexts) and such a row is refused. Without --restore those columns are ignored \
                (another tool's ids and times mean something else) and records get new ids; age_band is \
                derived and always ignored.

                Values as CRM exports write them: times in ISO 8601 with Z, an offset or no zone (read in \
                --timezone, else the schema's timezone, else UTC), with T or a space, with or without seconds; \
                enumeration values regardless of case, spaces, hyphens and accents, and the schema's aliases \
                ("Credit Card" is card); national phone numbers in the row's country column, else --country, \
                else the schema's default_country (refused when none says); line breaks in addresses and notes \
                are kept.

                Rows are committed in batches. A bad row is refused with its record number, line and every \
                problem it has (field and reason, never its content; with --rejects-plain also its plain \
                columns such as order_id, never a personal one) and does not stop the import. A row \
                whose natural key is stored already (a customer's e-mail, a transaction's order_id) is left \
                as it is and counted as already stored, so importing an overlapping export again stores \
                nothing twice; with --mode upsert the stored record takes the row's non-empty values instead \
                (customers by e-mail; counted as updated; needs customer.update, and for history also \
                transaction.write or interaction.write). If an import is interrupted, run the same command again: it resumes after \
                the last committed batch. Importing a file that was already imported completely does nothing.

                Exit status: 0 when every row was stored or already stored, 1 when some rows were refused.

                Example: cvault import transactions orders.csv --timezone Europe/Paris --rejects refused.csv
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "What the file holds: customers, transactions, interactions or behaviour.") var kind: RecordKind
        @Argument(help: "The file: CSV (RFC 4180) or JSON Lines.") var file: String
        @Option(help: ArgumentHelp("csv or jsonl (default: jsonl for a .jsonl or .ndjson file, else csv).", valueName: "format"))
        var format: FileFormat?
        @Flag(help: "Restore a cvault export: keep its ids, created_at and updated_at, and read customer_id as this vault's ids.") var restore = false
        @Option(help: ArgumentHelp("A row whose natural key is stored (a customer's e-mail, an order_id): insert leaves the record as it is; upsert changes it to the row's non-empty values.", valueName: "insert|upsert"))
        var mode: ImportMode = .insert
        @Option(help: ArgumentHelp("Write refused rows (record, line, field, reason; one line per problem) to this CSV file (mode 0600; never over a file without --force).", valueName: "file"))
        var rejects: String?
        @Flag(help: "Replace an existing --rejects file (atomically).") var force = false
        @Flag(help: "Add each refused row's plain columns (order_id, order_time, region, …; never a personal one) to the --rejects file, to find the row in its source.")
        var rejectsPlain = false
        @Option(help: ArgumentHelp("Read times written without a zone in this IANA time zone (default: the schema's timezone, else UTC).", valueName: "zone"))
        var timezone: String?
        @Option(help: ArgumentHelp("Read national phone numbers of rows without a country in this country (ISO 3166: GB, DEU, France).", valueName: "country"))
        var country: String?
        @Option(help: ArgumentHelp("The file's text encoding: utf-8, latin1 or windows-1252.", valueName: "encoding"))
        var encoding: CSVTextEncoding = .utf8
        @Option(help: ArgumentHelp("The field separator: ',', ';', '|' or tab (written \\t or tab).", valueName: "char"))
        var delimiter = ","
        @Option(help: "Rows per transaction.") var batch = CustomerVault.defaultImportBatchSize

        func validate() throws {
            guard Self.separator(delimiter) != nil else { throw ValidationError("--delimiter must be ',', ';', '|' or tab (\\t)") }
            if kind == .behaviour && mode != .insert { throw ValidationError("--mode applies to customers, transactions and interactions; behaviour counts always replace the stored ones") }
            if restore && mode == .upsert { throw ValidationError("--restore fills an empty vault; it does not go with --mode upsert") }
            if rejectsPlain && rejects == nil { throw ValidationError("--rejects-plain adds columns to the --rejects file: give --rejects FILE too") }
        }

        static func separator(_ text: String) -> Character? {
            switch text {
            case ",", ";", "|": text.first
            case "\t", "\\t", "tab", "TAB": "\t"
            default: nil
            }
        }

        func run() async throws {
            let vault = try await global.openVault()
            let bar = ProgressBar(label: "import \(kind.rawValue)")
            let inferred: FileFormat = [".jsonl", ".ndjson"].contains(where: { file.lowercased().hasSuffix($0) }) ? .jsonl : .csv
            let options = ImportOptions(batchSize: batch, timeZone: timezone, country: country, encoding: encoding,
                                        delimiter: Self.separator(delimiter) ?? ",", format: format ?? inferred, restore: restore, mode: mode)
            let interruption = Interruption.announce(kind == .behaviour ? "the batches committed so far are kept; running the same command again is safe"
                : "the batches committed so far are kept; run the same command again to resume after them")
            defer { interruption.cancel() }
            let update: @Sendable (ImportProgress) -> Void = { progress in
                bar.update(done: progress.bytesRead, total: progress.totalBytes, accepted: progress.accepted, rejected: progress.rejected)
            }
            let report = if let entity = kind.entity {
                try await vault.imports.file(entity, from: file, options: options, progress: update)
            } else {
                try await vault.imports.behaviour(from: file, options: options, progress: update)
            }
            bar.finish()
            if let rejects {
                var context: (columns: [String], values: [Int: [String]]) = ([], [:])
                if rejectsPlain, let entity = kind.entity {
                    context = try RejectContext.plainColumns(of: Set(report.rejects.map(\.record)), file: file, entity: entity,
                                                             schema: vault.schema, options: options)
                }
                let file = try PrivateOutputFile(path: rejects, replace: force)
                do {
                    try file.write(Data(CSVOutput.rejects(report.rejects, plain: context).utf8))
                    try file.commit()
                } catch {
                    file.discard()
                    throw error
                }
            }
            if global.json {
                try Output.json(report)
            } else {
                if report.alreadyImported {
                    Output.note("nothing to do: \(file) was imported completely\(report.finishedAt.map { " on \($0)" } ?? "")")
                }
                if let resumed = report.resumedAfterRecord { Output.note("resumed an interrupted import after record \(resumed)") }
                Output.line("\(kind.rawValue): \(report.accepted) stored, " + (mode == .upsert ? "\(report.updated) updated, " : "")
                    + "\(report.alreadyStored) already stored, \(report.rejected) rejected "
                    + "(times without a zone read in \(report.timeZone))")
                for reject in report.rejects.prefix(20) {
                    Output.line("  record \(reject.record) (line \(reject.line)): " + reject.problems.map(\.description).joined(separator: "; "))
                }
                if report.rejects.count > 20 {
                    Output.line("  … \(report.rejects.count - 20) more" + (rejects.map { " in \($0)" } ?? " (use --rejects FILE for all)"))
                }
            }
            if report.rejected > 0 { throw ExitCode(1) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Export customers, transactions, interactions or behaviour as CSV or JSON Lines.",
            discussion: """
                Each record in the views the role's policy grants, as `cvault import` reads it again: customers \
                id, the schema's fields, age_band, created_at, updated_at (JSON Lines adds masked, the fields \
                shown masked); transactions and interactions id, customer_id, their fields, created_at; \
                behaviour customer_id, browse, purchase, review, updated_at. `all` writes customers, \
                transactions, interactions and behaviour into --output DIR from one consistent snapshot \
                (writers wait while it runs). JSON Lines is a stream: one object a line, numbers as numbers, \
                booleans as booleans, absent values as null.

                The output holds personal data in clear: it is written with mode 0600, never through a \
                symbolic link and never over an existing file unless --force (which replaces it atomically), \
                and the export is recorded in the access log. CSV cells that a spreadsheet would run as a \
                formula (starting with = + - @, a tab or a carriage return) get a leading apostrophe; \
                `cvault import` removes it again.

                Examples:
                  cvault export customers --format jsonl --output customers.jsonl
                  cvault export all --output backup-2024-05/
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "What to export: customers, transactions, interactions, behaviour or all.") var kind: ExportTarget
        @Option(help: "csv or jsonl.") var format: FileFormat = .csv
        @Option(help: ArgumentHelp("Write to this file (for all: this directory) instead of standard output.", valueName: "path")) var output: String?
        @Flag(help: "Replace existing output files (atomically).") var force = false

        func validate() throws {
            if kind == .all && output == nil { throw ValidationError("export all writes one file per kind: give --output DIR") }
            if global.json && output == nil {
                throw ValidationError("--json prints a summary of an export to --output; the records themselves are CSV or JSON Lines (--format jsonl)")
            }
        }

        func run() async throws {
            let vault = try await global.openVault()
            guard let kind = RecordKind(rawValue: kind.rawValue) else {
                let counts = try await vault.exports.all(format: format, to: output ?? ".", replace: force)
                if global.json {
                    try Output.json(ExportSummary(output: output ?? ".", format: format, counts: Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })))
                } else {
                    Output.note("exported " + RecordKind.allCases.map { "\(counts[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ") + " to \(output ?? ".")")
                }
                return
            }
            guard let output else {
                _ = try await vault.exports.records(kind, format: format) { data in try FileHandle.standardOutput.write(contentsOf: data) }
                return
            }
            let file = try PrivateOutputFile(path: output, replace: force)
            do {
                let count = try await vault.exports.records(kind, format: format) { data in try file.write(data) }
                try file.commit()
                if global.json {
                    try Output.json(ExportSummary(output: output, format: format, counts: [kind.rawValue: count]))
                } else {
                    Output.note("exported \(count) \(kind.rawValue) to \(output)")
                }
            } catch {
                file.discard()
                throw error
            }
        }
    }
}

/// `cvault export --output … --json`: what was written where.
struct ExportSummary: Encodable {
    var output: String
    var format: FileFormat
    /// Records written, by kind.
    var counts: [String: Int]
}

/// CSV the CLI writes itself.
enum CSVOutput {
    /// The rejects file: record, line, field and reason (no content of the row), then, with
    /// `plain`, the row's plain columns (see ``RejectContext``), repeated on each of its lines.
    static func rejects(_ rejects: [ImportReject], plain: (columns: [String], values: [Int: [String]]) = ([], [:])) -> String {
        func cell(_ text: String) -> String {
            // Neutralised for spreadsheets like every cvault CSV (see `cvault export --help`).
            let safe = text.first.map { "=+-@\t\r'".contains($0) } == true ? "'" + text : text
            return "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        let header = (["record", "line", "field", "reason"] + plain.columns.map { "row_" + $0 }).joined(separator: ",")
        return header + "\n" + rejects.flatMap { reject in
            let context = plain.columns.isEmpty ? "" : "," + (plain.values[reject.record] ?? Array(repeating: "", count: plain.columns.count)).map(cell).joined(separator: ",")
            return reject.problems.map { "\(reject.record),\(reject.line),\(cell($0.field)),\(cell($0.reason))\(context)\n" }
        }.joined()
    }
}
