public import ArgumentParser
import CustomerVault
import Foundation

extension Entity: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}

extension CVault {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import customers, transactions or interactions from a CSV file.",
            discussion: """
                Headers: customers name,email[,phone,address,age,birth_date,gender,region,…any schema field] \
                (the extra columns of `cvault export customers` — id, age_band, created_at, updated_at — are \
                accepted and ignored, so an export imports again); \
                transactions customer_email,order_id,order_time,payment_method,amount[,currency]; \
                interactions customer_email,occurred_at,channel,summary.

                Rows are committed in batches. A bad row is refused with its record number, field and \
                reason (never its content) and does not stop the import. If an import is interrupted, \
                run the same command again: it resumes after the last committed batch. Importing a file \
                that was already imported completely does nothing.

                Exit status: 0 when every row was accepted, 1 when some rows were refused.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "What the file holds: customers, transactions or interactions.") var kind: Entity
        @Argument(help: "The CSV file (UTF-8, RFC 4180).") var file: String
        @Option(help: ArgumentHelp("Write refused rows (record, line, field, reason) to this CSV file (mode 0600; never over a file without --force).", valueName: "file"))
        var rejects: String?
        @Flag(help: "Replace an existing --rejects file (atomically).") var force = false
        @Option(help: "Rows per transaction.") var batch = CustomerVault.defaultImportBatchSize

        func run() async throws {
            let vault = try await global.openVault()
            let bar = ProgressBar(label: "import \(kind.rawValue)")
            let report = try await vault.importCSV(kind, from: file, batchSize: batch) { progress in
                bar.update(done: progress.bytesRead, total: progress.totalBytes, accepted: progress.accepted, rejected: progress.rejected)
            }
            bar.finish()
            if let rejects {
                let file = try PrivateOutputFile(path: rejects, replace: force)
                do {
                    try file.write(Data(CSVOutput.rejects(report.rejects).utf8))
                    try file.commit()
                } catch {
                    file.discard()
                    throw error
                }
            }
            if global.json {
                try Output.json(report)
            } else {
                if report.alreadyImported { Output.note("\(file) was already imported completely; nothing to do") }
                if let resumed = report.resumedAfterRecord { Output.note("resumed an interrupted import after record \(resumed)") }
                Output.line("\(kind.rawValue): \(report.accepted) accepted, \(report.rejected) rejected")
                for reject in report.rejects.prefix(20) {
                    Output.line("  record \(reject.record) (line \(reject.line))\(reject.field.isEmpty ? "" : " field \(reject.field)"): \(reject.reason)")
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
            abstract: "Export customers as CSV or JSON Lines.",
            discussion: """
                The output holds personal data in clear: it is written with mode 0600, never through a \
                symbolic link and never over an existing file unless --force (which replaces it atomically), \
                and the export is recorded in the access log. CSV cells that a spreadsheet would run as a \
                formula (starting with = + - @, a tab or a carriage return) get a leading apostrophe; \
                `cvault import` removes it again.

                Example: cvault export customers --format jsonl --output out.jsonl
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "What to export (customers).") var kind: Entity
        @Option(help: "csv or jsonl.") var format: ExportFormat = .csv
        @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?
        @Flag(help: "Replace an existing --output file (atomically).") var force = false

        func validate() throws {
            guard kind == .customers else { throw ValidationError("only customers can be exported for now") }
        }

        func run() async throws {
            let vault = try await global.openVault()
            guard let output else {
                _ = try await vault.exportCustomers(format: format) { data in try FileHandle.standardOutput.write(contentsOf: data) }
                return
            }
            let file = try PrivateOutputFile(path: output, replace: force)
            do {
                let count = try await vault.exportCustomers(format: format) { data in try file.write(data) }
                try file.commit()
                Output.note("exported \(count) customers to \(output)")
            } catch {
                file.discard()
                throw error
            }
        }
    }
}

/// CSV the CLI writes itself.
enum CSVOutput {
    /// The rejects file: record, line, field and reason (no content of the row).
    static func rejects(_ rejects: [ImportReject]) -> String {
        func cell(_ text: String) -> String {
            // Neutralised for spreadsheets like every cvault CSV (see `cvault export --help`).
            let safe = text.first.map { "=+-@\t\r'".contains($0) } == true ? "'" + text : text
            return "\"" + safe.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return "record,line,field,reason\n" + rejects.map { "\($0.record),\($0.line),\(cell($0.field)),\(cell($0.reason))\n" }.joined()
    }
}
