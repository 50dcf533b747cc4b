import Foundation
import Testing

/// The role × command matrix through `cvault`, over the shipped policy: denied cells exit 3 with a
/// message naming the missing grant, allowed cells exit 0, and no output of a refused command
/// holds a canary value. Expected cells are written out by hand from policies/default.yaml.
@Suite("cvault role matrix (shipped policy)", .serialized)
struct RoleMatrixCLITests {
    static let roles = ["admin", "support", "marketing", "analyst", "auditor", "intake", "dpo"]
    static let canary = ["name": "Qzcanary Wexford", "email": "qzcanary.wexford@example.com", "phone": "+44 20 7946 0999",
                         "address": "77 Qzcanary Wharf", "gender": "qzcanarygender", "birth-date": "1985-03-04"]
    static let fragments = ["Qzcanary", "qzcanary", "Wexford", "7946", "1985-03-04"]

    static let allowed: [String: Set<String>] = [
        "admin": ["create", "get", "find", "list", "update", "delete", "transactions", "interactions", "behaviour", "behaviour+",
                  "import", "export", "report", "audit", "principals"],
        "support": ["get", "find", "list", "update", "transactions", "interactions", "behaviour", "export"],
        "marketing": ["list", "export", "report"],
        "analyst": ["report"],
        "auditor": ["audit"],
        "intake": ["create", "import"],
        "dpo": ["get", "find", "audit"],
    ]
    static let purposes: [String: [String: String]] = [
        "support": ["get": "support_ticket", "find": "support_ticket", "list": "support_ticket", "export": "fraud_investigation"],
        "dpo": ["get": "subject_request", "find": "subject_request"],
    ]

    static func arguments(_ command: String, id: String, spare: String, role: String, workspace: Workspace) throws -> [String] {
        switch command {
        case "create": return ["customer", "add", "--name", "New Person", "--email", "new.\(role)@example.com", "--region", "EU"]
        case "get": return ["customer", "get", id]
        case "find": return ["customer", "find", "--email", canary["email"]!]
        case "list": return ["customer", "list"]
        case "update": return ["customer", "update", id, "--phone", "+44 20 7946 0999"]
        case "delete": return ["customer", "delete", spare]
        case "transactions": return ["customer", "history", id, "--kind", "transactions"]
        case "interactions": return ["customer", "history", id, "--kind", "interactions"]
        case "behaviour": return ["customer", "behaviour", id]
        case "behaviour+": return ["customer", "behaviour", id, "--browse", "1"]
        case "import":
            let file = try workspace.write("inputs/import-\(role).csv", "name,email,region\nImported Person,imported.\(role)@example.com,EU\n")
            return ["import", "customers", file]
        case "export": return ["export", "customers", "--format", "jsonl"]
        case "report": return ["report"]
        case "audit": return ["audit", "log"]
        case "principals": return ["principal", "list"]
        default: throw CocoaError(.featureUnsupported)
        }
    }

    @Test("every role × command cell of the shipped policy")
    func matrix() throws {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace, passphrase: nil)
        let adminKey = workspace.path("admin.key")
        #expect(try cli.run(["init", "--key-file-out", adminKey]).status == 0)
        let asAdmin = ["--key-file", adminKey]
        for role in Self.roles where role != "admin" {
            let added = try cli.run(["principal", "add", role, "--role", role, "--key-file-out", workspace.path("\(role).key")]
                                    + (role == "support" ? ["--attr", "regions=EU"] : []) + asAdmin)
            #expect(added.status == 0, "\(added.stderr)")
        }
        var add = ["customer", "add", "--region", "EU", "--field", "marketing_consent=true"] + asAdmin
        for (key, value) in Self.canary { add += ["--\(key)", value] }
        let id = try cli.run(add).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(id) != nil)

        for role in Self.roles {
            let key = role == "admin" ? adminKey : workspace.path("\(role).key")
            for command in ["create", "get", "find", "list", "update", "delete", "transactions", "interactions", "behaviour",
                            "behaviour+", "import", "export", "report", "audit", "principals"] {
                let spare = try cli.run(["customer", "add", "--name", "Spare Person", "--email", "spare.\(role).\(command)@example.com",
                                         "--region", "EU"] + asAdmin).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                var arguments = try Self.arguments(command, id: id, spare: spare, role: role, workspace: workspace)
                arguments += ["--principal", role, "--key-file", key]
                if let purpose = Self.purposes[role]?[command] { arguments += ["--purpose", purpose] }
                let result = try cli.run(arguments)
                if Self.allowed[role]!.contains(command) {
                    #expect(result.status == 0, "\(role) \(command): \(result.stderr)")
                } else {
                    #expect(result.status == 3, "\(role) \(command) exit \(result.status): \(result.stderr)")
                    #expect(result.stderr.contains("access denied"), "\(role) \(command)")
                    #expect(result.stdout.isEmpty)
                    #expect(!Self.fragments.contains { result.output.contains($0) }, "\(role) \(command) leaked a value")
                }
                if command == "get" && result.status == 0 { Self.checkGet(result.stdout, role: role) }
            }
        }
    }

    /// Which canary values `customer get` shows, by role: plain, masked, or not at all.
    static func checkGet(_ output: String, role: String) {
        let plain: Set<String> = role == "support" ? ["name", "email", "phone"] : ["name", "email", "phone", "address", "gender"]
        #expect(output.contains("Qzcanary Wexford") == plain.contains("name"), "\(role) name")
        #expect(output.contains("qzcanary.wexford@example.com") == plain.contains("email"), "\(role) email")
        #expect(output.contains("+442079460999") == plain.contains("phone"), "\(role) phone")
        #expect(output.contains("77 Qzcanary Wharf") == plain.contains("address"), "\(role) address")
        #expect(output.contains("qzcanarygender") == plain.contains("gender"), "\(role) gender")
        if role == "support" {
            #expect(output.contains("77 ***") && output.contains("(masked)"), "support sees the address masked")
            #expect(!output.contains("1985-03-04"), "support sees no birth date")
        }
    }
}
