import CustomerVault
import Foundation

/// Printing: results to stdout (text or JSON), errors and progress to stderr.
enum Output {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("cvault: error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
    }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// One JSON value on a line, keys in snake_case (the README's JSON contract).
    static func json(_ value: some Encodable) throws {
        line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    /// A customer as aligned `field: value` lines in schema order.
    static func customer(_ record: CustomerRecord, schema: Schema) {
        var lines = ["id: \(record.id)"]
        let names = schema.fields(of: .customers).map(\.name) + ["age_band"]
        let width = names.map(\.count).max() ?? 0
        for name in names {
            guard let value = record.fields[name] else { continue }
            let masked = record.masked.contains(name) ? "  (masked)" : ""
            lines.append(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value.replacingOccurrences(of: "\n", with: " ") + masked)
        }
        lines.append("created_at".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + record.createdAt)
        line(lines.joined(separator: "\n"))
    }
}

/// Errors as the README's contract says: `cvault: error: …` on stderr, or with `--json` one object
/// `{"error": {"code", "exit", "message", "hint"}}` on stderr; codes match the exit codes.
enum ErrorOutput {
    struct Body: Encodable {
        struct Details: Encodable {
            var code: String
            var exit: Int32
            var message: String
            var hint: String
        }
        var error: Details
    }

    static func vault(_ error: VaultError, json: Bool) {
        let remedy = error.remedy.map(remedyText)
        emit(code: error.codeName, exit: exitCode(error.code), message: error.message + (remedy.map { "; " + $0 } ?? ""),
             hint: remedy ?? error.hint ?? generalHint(error.code), json: json)
    }

    /// The exit status of each kind of failure (README "Exit codes"): the one place errors become them.
    static func exitCode(_ code: VaultError.Code) -> Int32 {
        switch code {
        case .invalidInput: 2
        case .accessDenied: 3
        case .badCredential: 4
        case .notFound: 5
        case .integrity: 6
        case .conflict, .io, .unsupported: 1
        }
    }

    /// What the library says to do, as the flag or command that does it here.
    static func remedyText(_ remedy: VaultError.Remedy) -> String {
        switch remedy {
        case .givePurpose: "give --purpose NAME"
        case .replaceExisting: "pass --force to replace it"
        case .resumeRotation: "finish it with `cvault keys rotate --resume`"
        case .rotateFirst(let field): "rotate first (`cvault keys rotate --field \(field)`)"
        case .useDelimiter(let separator): "import it with that delimiter (--delimiter '\(separator == "tab" ? "\\t" : separator)')"
        case .restoreExport: "a cvault export is restored with --restore"
        case .createVault: "create one with `cvault init`"
        case .verifyAuditLog: "`cvault audit verify` checks the access log alone, also on a read-only copy"
        case .verifyVault: "run `cvault verify`"
        case .applyPolicy: "a key custodian runs `cvault policy apply`"
        case .custodianOpen: "for example `cvault keys status` as a key custodian"
        case .restoreBackup: "restore it with `cvault backup restore`"
        case .giveLedger(let path): "pass its ledger file (--ledger \(path))"
        }
    }

    /// A usage error: one line naming what is wrong, then the usage of the command meant.
    static func usage(_ message: String, usage: String, json: Bool) {
        guard json else {
            FileHandle.standardError.write(Data("cvault: error: \(message)\n\(usage)\n".utf8))
            return
        }
        emit(code: "usage", exit: 2, message: message, hint: usage.replacingOccurrences(of: "\n  ", with: "; "), json: true)
    }

    static func emit(code: String, exit: Int32, message: String, hint: String, json: Bool) {
        guard json else {
            Output.error(message)
            return
        }
        let body = Body(error: .init(code: code, exit: exit, message: message, hint: hint))
        let text = (try? Output.encoder.encode(body)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"error":{"code":"io","exit":1,"message":"error","hint":""}}"#
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func generalHint(_ code: VaultError.Code) -> String {
        switch code {
        case .invalidInput: "see the command's --help for what it accepts"
        case .accessDenied: "the policy decides: see `cvault policy explain --help` and `cvault policy show`"
        case .badCredential: "check --principal and the credential (CVAULT_PASSPHRASE, --passphrase-file or --key-file)"
        case .notFound: "check the id, name or path"
        case .integrity: "the vault file was altered or damaged: run `cvault verify`, and restore from a backup if it fails"
        case .conflict: "a record holds this value already"
        case .io: "check the disk, free space and the file's permissions"
        case .unsupported: "this cvault cannot do it with this vault; see the message"
        }
    }

    /// ArgumentParser's message in one line, without its "Error: " prefix and help lines.
    static func argumentMessage(_ error: any Error) -> String {
        var message = CVault.message(for: error)
        if message.hasPrefix("Error: ") { message.removeFirst(7) }
        var line = String(message.split(separator: "\n").first ?? "")
        // "3 unexpected arguments: 'a', 'b', 'c'" names the first, and how many more.
        if let range = line.range(of: #"^[0-9]+ unexpected arguments: "#, options: .regularExpression) {
            let extra = line[range.upperBound...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            line = "unexpected argument \(extra.first ?? "")" + (extra.count > 1 ? " (and \(extra.count - 1) more)" : "") + ": the command takes no more than its usage below shows"
        } else if line.hasPrefix("Unexpected argument ") {
            line = "unexpected argument " + line.dropFirst("Unexpected argument ".count) + ": the command takes no more than its usage below shows"
        }
        // "The value 'custmers' is invalid for '<kind>'. Please provide one of 'customers', …"
        if line.contains("Please provide one of") {
            let candidates = line.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            if let value = candidates.first {
                line += Suggestion.didYouMean(value, among: Array(candidates.dropFirst(2)))
            }
        }
        return line
    }

    /// The usage lines ArgumentParser would print for this error.
    static func argumentUsage(_ error: any Error) -> String {
        let full = CVault.fullMessage(for: error)
        guard let range = full.range(of: "Usage: ") else { return "See 'cvault --help' for more information." }
        return String(full[range.lowerBound...]).trimmingCharacters(in: .newlines)
    }
}
