import Foundation
import Testing

/// The README's JSON contract, for every subcommand: with `--json`, success prints one JSON value
/// (or JSON Lines, for streams) with snake_case keys and the documented keys and types; an error
/// prints nothing on stdout and one object `{"error": {"code", "exit", "message", "hint"}}` on
/// stderr whose `exit` is the exit status. A command that prints no JSON refuses `--json`.
@Suite("JSON contract of every subcommand")
struct JSONContractTests {
    /// What a JSON value must look like.
    indirect enum Shape {
        case number, string, bool, null, any
        case optional(Shape)
        /// An object with at least these keys, each of this shape.
        case object([String: Shape])
        case array(Shape)
        /// An object whose keys are data (field names, kinds), each value of this shape.
        case map(Shape)

        func check(_ value: JSONValue, at path: String) -> [String] {
            switch (self, value) {
            case (.any, _), (.number, .number), (.string, .string), (.bool, .bool), (.null, .null), (.optional, .null): return []
            case (.optional(let shape), _): return shape.check(value, at: path)
            case (.array(let shape), .array(let items)): return items.enumerated().flatMap { shape.check($1, at: "\(path)[\($0)]") }
            case (.map(let shape), .object(let object)): return object.flatMap { shape.check($1, at: "\(path).\($0)") }
            case (.object(let keys), .object(let object)):
                return keys.flatMap { key, shape in object[key].map { shape.check($0, at: "\(path).\(key)") } ?? ["\(path): no key \(key)"] }
            default: return ["\(path): \(value.kind), expected \(self)"]
            }
        }
    }

    /// A parsed JSON value that keeps booleans, numbers and null apart.
    enum JSONValue: Decodable {
        case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
            else { self = .object(try container.decode([String: JSONValue].self)) }
        }

        var kind: String {
            switch self {
            case .null: "null"
            case .bool: "a boolean"
            case .number: "a number"
            case .string: "a string"
            case .array: "an array"
            case .object: "an object"
            }
        }

        subscript(key: String) -> JSONValue? {
            if case .object(let object) = self { return object[key] }
            return nil
        }
    }

    struct Case {
        var command: String
        var arguments: [String]
        var shape: Shape
        var lines = false
        var status: Int32 = 0
        var stdin: String?
    }

    /// Keys in camelCase anywhere (data keys such as regions `UK` or currencies `GBP` are not keys
    /// the contract names, and field names are snake_case by the schema's rule).
    static func nonSnakeKeys(_ value: JSONValue, path: String = "$") -> [String] {
        switch value {
        case .object(let object):
            return object.flatMap { key, child in
                (key.range(of: "[a-z][A-Z]", options: .regularExpression) != nil ? ["\(path).\(key)"] : []) + nonSnakeKeys(child, path: "\(path).\(key)")
            }
        case .array(let items): return items.flatMap { nonSnakeKeys($0, path: path + "[]") }
        default: return []
        }
    }

    static func parse(_ text: String, lines: Bool) throws -> [JSONValue] {
        let chunks = lines ? text.split(separator: "\n").map(String.init) : [text]
        return try chunks.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    /// Leaf commands as the binary describes itself (so a new command cannot be left out).
    static func leafCommands(_ cli: CLI) throws -> Set<String> {
        let dump = try cli.run(["--experimental-dump-help"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var leaves: Set<String> = []
        func walk(_ node: [String: Any], _ path: [String]) {
            let subcommands = (node["subcommands"] as? [[String: Any]] ?? []).filter { $0["commandName"] as? String != "help" }
            if subcommands.isEmpty { leaves.insert(path.joined(separator: " ")) }
            for child in subcommands { walk(child, path + [child["commandName"] as? String ?? "?"]) }
        }
        walk(try #require(root["command"] as? [String: Any]), [])
        return leaves
    }

    @Test("every subcommand: success output and an error output with --json parse and match the documented keys and types")
    func contract() async throws {
        let workspace = try Workspace()
        var cli = CLI(workspace: workspace)
        let vault = try #require(cli.environment["CVAULT_VAULT"])
        let file = { (name: String, text: String) throws -> String in try workspace.write("inputs/\(name)", text) }
        let customers = try file("c.csv", "name,email,phone,region,country\nAda Lovelace,ada@example.com,020 7946 0001,UK,GB\nAlan Turing,alan@example.com,,UK,GB\nBad Row,not-an-email,,UK,GB\n")
        let orders = try file("o.csv", "customer_email,order_id,order_time,payment_method,amount,currency\nada@example.com,A-1,2026-05-01 10:00,Credit Card,12.50,GBP\n")
        let policyFile = try file("policy.yaml", String(decoding: try Data(contentsOf: URL(fileURLWithPath: "policies/default.yaml", relativeTo: Self.packageRoot)), as: UTF8.self))
        let badPolicy = try file("bad.yaml", "format: 2\nroles:\n  x: { allow: [nonsense.action] }\n")
        let passFile = try file("new.pass", "a new and rather long passphrase\n")
        let backup = workspace.path("vault.backup")
        let recovery = workspace.path("recovery.key")
        let missing = ["--vault", workspace.path("missing.vault")]
        let customer = Shape.object(["id": .number, "fields": .map(.string), "masked": .array(.string), "created_at": .string, "updated_at": .string])
        let report = Shape.object(["kind": .string, "accepted": .number, "rejected": .number, "already_stored": .number, "updated": .number, "time_zone": .string,
                                   "already_imported": .bool, "finished_at": .optional(.string), "resumed_after_record": .optional(.number), "rejects": .array(.object(["record": .number, "line": .number,
                                                                                          "problems": .array(.object(["field": .string, "reason": .string]))]))])

        let successes: [Case] = [
            Case(command: "init", arguments: ["init"], shape: .object(["vault": .string, "vault_id": .string, "administrator": .string])),
            Case(command: "import", arguments: ["import", "customers", customers], shape: report, status: 1),
            Case(command: "import", arguments: ["import", "transactions", orders], shape: report),
            Case(command: "customer add", arguments: ["customer", "add", "--name", "Grace Hopper", "--email", "grace@example.com", "--region", "US"],
                 shape: .object(["id": .number])),
            Case(command: "customer get", arguments: ["customer", "get", "1"], shape: customer),
            Case(command: "customer get", arguments: ["customer", "get", "1", "2"], shape: .array(customer)),
            Case(command: "customer find", arguments: ["customer", "find", "--email", "ada@example.com", "--email", "nobody@example.com"],
                 shape: .array(.object(["query": .string, "matches": .array(customer)]))),
            Case(command: "customer update", arguments: ["customer", "update", "2", "--phone", "+44 20 7946 0002"],
                 shape: .object(["id": .number, "updated": .array(.string)])),
            Case(command: "customer list", arguments: ["customer", "list"], shape: .array(customer)),
            Case(command: "customer history add", arguments: ["customer", "history", "add", "1", "--kind", "interactions", "--field", "occurred_at=2026-05-02 09:30",
                                                             "--field", "channel=Phone Call", "--field", "summary=Asked about delivery"],
                 shape: .object(["id": .number, "customer_id": .number, "kind": .string])),
            Case(command: "customer history show", arguments: ["customer", "history", "1", "--kind", "transactions"],
                 shape: .array(.object(["id": .number, "customer_id": .number, "fields": .map(.string), "created_at": .string]))),
            Case(command: "customer behaviour", arguments: ["customer", "behaviour", "1", "--browse", "3"],
                 shape: .object(["browse": .number, "purchase": .number, "review": .number])),
            Case(command: "customer export-subject", arguments: ["customer", "export-subject", "1"], shape: .object(["customer": .any])),
            Case(command: "customer merge", arguments: ["customer", "merge", "1", "2"], shape: .any),
            Case(command: "export", arguments: ["export", "all", "--output", workspace.path("out")],
                 shape: .object(["output": .string, "format": .string, "counts": .map(.number)])),
            Case(command: "report", arguments: ["report"], shape: .any),
            Case(command: "schema show", arguments: ["schema", "show"], shape: .object(["timezone": .string, "default_country": .optional(.string),
                 "entities": .map(.array(.object(["name": .string, "class": .string, "type": .string, "required": .bool, "unique": .bool,
                                                  "max_length": .number, "values": .optional(.map(.array(.string)))])))])),
            Case(command: "principal add", arguments: ["principal", "add", "dana", "--role", "dpo", "--new-passphrase-file", passFile],
                 shape: .object(["name": .string, "role": .string])),
            Case(command: "principal list", arguments: ["principal", "list"], shape: .array(.object(["name": .string, "role": .string, "disabled": .bool]))),
            Case(command: "customer erase", arguments: ["customer", "erase", "3", "--principal", "dana", "--passphrase-file", passFile, "--purpose", "subject_request"],
                 shape: .object(["entry": .object(["customer": .number, "erased_at": .string, "removed": .map(.number)])])),
            Case(command: "retention apply", arguments: ["retention", "apply", "--dry-run", "--principal", "dana", "--passphrase-file", passFile,
                                                         "--purpose", "legal_request"], shape: .any),
            Case(command: "principal update", arguments: ["principal", "update", "dana", "--attr", "regions=EU"],
                 shape: .object(["name": .string, "role": .string, "previous_role": .string, "attributes": .map(.string), "keys_added": .number,
                                 "keys_removed": .number, "fields_lost": .array(.string), "rotated": .array(.string)])),
            Case(command: "principal disable", arguments: ["principal", "disable", "dana"], shape: .object(["disabled": .string, "rotated": .array(.string)])),
            Case(command: "policy check", arguments: ["policy", "check", policyFile, badPolicy],
                 shape: .array(.object(["file": .string, "valid": .bool, "errors": .array(.string)])), status: 2),
            Case(command: "policy explain", arguments: ["policy", "explain", "--action", "customer.read"], shape: .object(["allowed": .bool, "rule": .string, "purpose": .optional(.string), "field": .optional(.string),
                                                                                                        "customer": .optional(.number), "row_rule": .optional(.string)])),
            Case(command: "policy apply", arguments: ["policy", "apply", policyFile], shape: .any),
            Case(command: "audit log", arguments: ["audit", "log", "--limit", "3"], shape: .object(["seq": .number, "action": .string, "principal": .string,
                                                                                                  "purpose": .optional(.string), "reason": .optional(.string)]), lines: true),
            Case(command: "audit head", arguments: ["audit", "head"], shape: .object(["seq": .number])),
            Case(command: "audit verify", arguments: ["audit", "verify"], shape: .object(["entries": .number])),
            Case(command: "audit hash", arguments: ["audit", "hash", "--field", "email"], shape: .object(["field": .string, "digest": .string, "earlier_digest": .optional(.string)]), stdin: "ada@example.com\n"),
            Case(command: "keys status", arguments: ["keys", "status"], shape: .object(["fields": .array(.object(["field": .string, "current_version": .number])),
                                                                                       "rotation_in_progress": .optional(.array(.string))])),
            Case(command: "keys rotate", arguments: ["keys", "rotate", "--field", "customers.gender"], shape: .any),
            Case(command: "keys retire", arguments: ["keys", "retire"], shape: .any),
            Case(command: "backup create", arguments: ["backup", "create", backup], shape: .any),
            Case(command: "backup export-key", arguments: ["backup", "export-key", "--key-file-out", recovery], shape: .object(["recovery_key_file": .string])),
            Case(command: "backup verify", arguments: ["backup", "verify", backup], shape: .any),
            Case(command: "backup inspect", arguments: ["backup", "inspect", backup], shape: .object(["format_version": .number])),
            Case(command: "backup restore", arguments: ["backup", "restore", backup, "--to", workspace.path("restored.vault")], shape: .any),
            Case(command: "erasures list", arguments: ["erasures", "list"], shape: .array(.object(["customer": .number, "erased_at": .string]))),
            Case(command: "dedupe", arguments: ["dedupe"], shape: .array(.any)),
            Case(command: "verify", arguments: ["verify"], shape: .any),
            Case(command: "customer delete", arguments: ["customer", "delete", "1"], shape: .object(["id": .number, "deleted": .bool])),
            Case(command: "customer add", arguments: ["customer", "add", "--name", "Keep Me", "--email", "keep@example.com"], shape: .object(["id": .number])),
            Case(command: "principal passwd", arguments: ["principal", "passwd", "--new-passphrase-file", passFile], shape: .object(["principal": .string])),
        ]
        // Errors: each subcommand once at least, with the code the exit status says.
        let errors: [(command: String, arguments: [String], code: String)] = [
            ("init", ["init"], "conflict"),
            ("import", ["import", "customers", workspace.path("none.csv")], "not_found"),
            ("export", ["export", "customers", "--output", workspace.path("out/customers.csv")], "conflict"),
            ("customer add", ["customer", "add", "--name", "X", "--email", "keep@example.com"], "conflict"),
            ("customer get", ["customer", "get", "999"], "not_found"),
            ("customer find", ["customer", "find", "--email", "x@example.com"] + missing, "not_found"),
            ("customer update", ["customer", "update", "999", "--gender", "x"], "not_found"),
            ("customer delete", ["customer", "delete", "999"], "not_found"),
            ("customer list", ["customer", "list"] + missing, "not_found"),
            ("customer history show", ["customer", "history", "999"], "not_found"),
            ("customer history add", ["customer", "history", "add", "999", "--kind", "transactions", "--field", "order_id=A-9", "--field", "order_time=2026-05-01 10:00",
                                      "--field", "payment_method=card", "--field", "amount=3"], "not_found"),
            ("customer behaviour", ["customer", "behaviour", "999"], "not_found"),
            ("customer erase", ["customer", "erase", "2"], "access_denied"),
            ("customer export-subject", ["customer", "export-subject", "999"], "not_found"),
            ("customer merge", ["customer", "merge", "998", "999"], "not_found"),
            ("report", ["report"] + missing, "not_found"),
            ("schema show", ["schema", "show", "--schema", badPolicy], "invalid_input"),
            ("principal add", ["principal", "add", "admin", "--role", "admin", "--new-passphrase-file", passFile], "conflict"),
            ("principal list", ["principal", "list"] + missing, "not_found"),
            ("principal disable", ["principal", "disable", "nobody"], "not_found"),
            ("principal update", ["principal", "update", "admin", "--role", "nosuchrole"], "invalid_input"),
            ("principal passwd", ["principal", "passwd", "--new-passphrase-file", workspace.path("none.pass")], "invalid_input"),
            ("policy check", ["policy", "check"] + missing, "not_found"),
            ("policy explain", ["policy", "explain", "--action", "no.such"], "usage"),
            ("policy apply", ["policy", "apply", badPolicy], "invalid_input"),
            ("policy show", ["policy", "show"], "usage"),
            ("audit log", ["audit", "log", "--since", "yesterday"], "usage"),
            ("audit head", ["audit", "head"] + missing, "not_found"),
            ("audit verify", ["audit", "verify", "--expect-head", "1:00"], "invalid_input"),
            ("audit hash", ["audit", "hash", "--field", "shoe_size"], "invalid_input"),
            ("keys status", ["keys", "status"] + missing, "not_found"),
            ("keys rotate", ["keys", "rotate", "--field", "customers.shoe_size"], "invalid_input"),
            ("keys retire", ["keys", "retire", "--field", "customers.shoe_size"], "invalid_input"),
            ("backup create", ["backup", "create", backup], "conflict"),
            ("backup verify", ["backup", "verify", customers], "integrity"),
            ("backup inspect", ["backup", "inspect", workspace.path("none.backup")], "not_found"),
            ("backup restore", ["backup", "restore", backup, "--to", vault], "conflict"),
            ("backup export-key", ["backup", "export-key", "--key-file-out", recovery], "conflict"),
            ("erasures list", ["erasures", "list"] + missing, "not_found"),
            ("erasures export", ["erasures", "export", "--output", workspace.path("ledger.jsonl")], "usage"),
            ("retention apply", ["retention", "apply"] + missing, "not_found"),
            ("dedupe", ["dedupe"] + missing, "not_found"),
            ("verify", ["verify"] + missing, "not_found"),
            ("customer find", ["customer", "fnd", "--email", "a@example.com"], "usage"),
            ("customer get", ["customer", "get", "1", "--bogus"], "usage"),
        ]
        let exits = ["usage": 2, "invalid_input": 2, "access_denied": 3, "bad_credential": 4, "not_found": 5, "integrity": 6, "conflict": 1, "io": 1,
                     "unsupported": 1]

        let leaves = try Self.leafCommands(cli)
        #expect(leaves.subtracting(successes.map(\.command) + ["policy show", "erasures export"]).isEmpty,
                "subcommands without a success case: \(leaves.subtracting(successes.map(\.command)).sorted())")
        #expect(leaves.subtracting(errors.map(\.command)).isEmpty, "subcommands without an error case: \(leaves.subtracting(errors.map(\.command)).sorted())")

        var failures: [String] = []
        for item in successes {
            let result = try cli.run(item.arguments + ["--json"], stdin: item.stdin)
            guard result.status == item.status else {
                failures.append("\(item.arguments.joined(separator: " ")): exit \(result.status), expected \(item.status): \(result.stderr.prefix(300))")
                continue
            }
            do {
                for value in try Self.parse(result.stdout, lines: item.lines) {
                    failures += item.shape.check(value, at: item.command).map { "\(item.arguments.joined(separator: " ")): \($0) in \(result.stdout.prefix(300))" }
                    failures += Self.nonSnakeKeys(value).map { "\(item.arguments.joined(separator: " ")): key \($0) is not snake_case" }
                }
            } catch {
                failures.append("\(item.arguments.joined(separator: " ")): stdout is not JSON: \(result.stdout.prefix(200))")
            }
            if item.command == "init" { cli.environment["CVAULT_PASSPHRASE"] = "cli test passphrase" }
            if item.command == "principal passwd" { cli.environment["CVAULT_PASSPHRASE"] = "a new and rather long passphrase" }
        }
        for item in errors {
            let result = try cli.run(item.arguments + ["--json"])
            let label = item.arguments.joined(separator: " ")
            if !result.stdout.isEmpty { failures.append("\(label): error printed on stdout: \(result.stdout.prefix(200))") }
            guard let object = try? JSONDecoder().decode(JSONValue.self, from: Data(result.stderr.utf8)), let error = object["error"] else {
                failures.append("\(label): stderr is not one JSON error object: \(result.stderr.prefix(300))")
                continue
            }
            failures += Shape.object(["code": .string, "exit": .number, "message": .string, "hint": .string]).check(error, at: "error").map { "\(label): \($0)" }
            guard case .string(let code)? = error["code"], case .number(let exit)? = error["exit"] else { continue }
            if code != item.code { failures.append("\(label): code \(code), expected \(item.code): \(result.stderr.prefix(300))") }
            if Int(exit) != Int(result.status) || exits[item.code] != Int(result.status) {
                failures.append("\(label): exit \(result.status), JSON exit \(Int(exit)), code \(item.code) means \(exits[item.code] ?? -1)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) contract violations:\n\(failures.joined(separator: "\n"))")
    }

    @Test("schema show --json describes every field of the vault's stored schema, enumeration values with their aliases")
    func schemaShow() throws {
        let cli = CLI(workspace: try Workspace())
        #expect(try cli.run(["init"]).status == 0)
        let result = try cli.run(["schema", "show", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let schema = try JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8))
        guard case .array(let transactions)? = schema["entities"]?["transactions"],
              let method = transactions.first(where: { if case .string("payment_method")? = $0["name"] { true } else { false } }),
              case .array(let cardAliases)? = method["values"]?["card"] else {
            Issue.record("no payment_method with values in \(result.stdout.prefix(400))")
            return
        }
        #expect(cardAliases.contains { if case .string("credit card") = $0 { true } else { false } })
        guard case .array(let customers)? = schema["entities"]?["customers"] else { Issue.record("no customers"); return }
        #expect(customers.count == 10, "the shipped schema's ten customer fields")
        let text = try cli.run(["schema", "show"])
        #expect(text.stdout.contains("email: personal email required unique search(email, 128 bits) mask email"), "\(text.stdout.prefix(600))")
    }

    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { url.deleteLastPathComponent() }
        return url
    }()
}
