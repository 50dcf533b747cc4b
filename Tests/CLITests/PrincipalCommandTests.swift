import Foundation
import Testing
import VaultFileInspector

/// `cvault principal …` and `cvault policy show|explain|apply` on a vault with the shipped policy:
/// principals with roles and attributes, their credentials, and a policy that changes what they see.
@Suite("cvault principal and policy commands")
struct PrincipalCommandTests {
    /// A row of `principal list --json`.
    struct Listed: Decodable, Equatable {
        var name: String
        var role: String
        var attributes: [String: String]
        var credential: String
        var disabled: Bool
        var keys: Int
    }

    static let shippedPolicy = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../policies/default.yaml").standardizedFileURL

    /// A vault created by `cvault init` (principal admin, the shipped policy).
    static func initialised() throws -> CLI {
        let cli = CLI(workspace: try Workspace())
        let created = try cli.run(["init"])
        #expect(created.status == 0, "\(created.stderr)")
        return cli
    }

    /// Adds alice (support, regions=EU, a key file) and returns the options that unlock as her.
    @discardableResult
    static func addAlice(_ cli: CLI) throws -> [String] {
        let keyFile = cli.path("alice.key")
        let added = try cli.run(["principal", "add", "alice", "--role", "support", "--attr", "regions=EU", "--key-file-out", keyFile])
        #expect(added.status == 0, "\(added.stderr)")
        return ["--principal", "alice", "--key-file", keyFile]
    }

    /// Adds a customer as admin and returns its id.
    static func addCustomer(_ cli: CLI, name: String, email: String, region: String, address: String? = nil) throws -> String {
        var arguments = ["customer", "add", "--name", name, "--email", email, "--region", region]
        if let address { arguments += ["--address", address] }
        let added = try cli.run(arguments)
        #expect(added.status == 0, "\(added.stderr)")
        let id = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int(id) != nil, "customer add printed \(added.stdout)")
        return id
    }

    static func principals(_ cli: CLI) throws -> [Listed] {
        let listed = try cli.run(["principal", "list", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        return try JSONDecoder.cli.decode([Listed].self, from: Data(listed.stdout.utf8))
    }

    static func policyShown(_ cli: CLI) throws -> String {
        let shown = try cli.run(["policy", "show"])
        #expect(shown.status == 0, "\(shown.stderr)")
        return shown.stdout
    }

    /// The shipped policy with `replace` swapped for `with` (which must occur).
    static func shippedPolicy(replacing replace: String, with replacement: String) throws -> String {
        let text = try String(contentsOf: shippedPolicy, encoding: .utf8)
        #expect(text.contains(replace), "the shipped policy no longer holds \(replace)")
        return text.replacingOccurrences(of: replace, with: replacement)
    }

    static func vaultPath(_ cli: CLI) -> String { cli.environment["CVAULT_VAULT"]! }

    // MARK: - principal add / list

    @Test("principal add: listed with its role, attributes and keys; a taken name exits 1; an unknown role exits 2 naming the roles")
    func addAndList() throws {
        let cli = try Self.initialised()
        let keyFile = cli.path("alice.key")
        let added = try cli.run(["principal", "add", "alice", "--role", "support", "--attr", "regions=EU", "--key-file-out", keyFile])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("added principal alice with role support"), "\(added.stdout)")
        #expect(FileManager.default.fileExists(atPath: keyFile))

        let listed = try Self.principals(cli)
        let alice = try #require(listed.first { $0.name == "alice" })
        #expect(alice.role == "support")
        #expect(alice.attributes == ["regions": "EU"])
        #expect(alice.credential == "key_file")
        #expect(alice.disabled == false)
        #expect(alice.keys > 0)
        #expect(listed.contains { $0.name == "admin" && $0.role == "admin" })

        let again = try cli.run(["principal", "add", "alice", "--role", "support", "--key-file-out", cli.path("again.key")])
        #expect(again.status == 1, "\(again.stderr)")
        #expect(again.stderr.contains("alice already exists"), "\(again.stderr)")

        let unknown = try cli.run(["principal", "add", "carol", "--role", "janitor", "--key-file-out", cli.path("carol.key")])
        #expect(unknown.status == 2, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("janitor"), "\(unknown.stderr)")
        for role in ["admin", "support", "marketing", "analyst", "auditor", "intake", "dpo"] {
            #expect(unknown.stderr.contains(role), "the error should name role \(role): \(unknown.stderr)")
        }
        // Neither refusal added anyone, and alice is unchanged.
        #expect(try Self.principals(cli) == listed)
    }

    @Test("a refused principal add leaves no key file behind, so the same command can be retried")
    func refusedAddLeavesNoKeyFile() throws {
        let cli = try Self.initialised()
        let alice = try Self.addAlice(cli)
        let duplicateKey = cli.path("duplicate.key"), janitorKey = cli.path("carol.key"), deniedKey = cli.path("dave.key")
        #expect(try cli.run(["principal", "add", "alice", "--role", "support", "--key-file-out", duplicateKey]).status == 1)
        #expect(try cli.run(["principal", "add", "carol", "--role", "janitor", "--key-file-out", janitorKey]).status == 2)
        #expect(try cli.run(["principal", "add", "dave", "--role", "support", "--key-file-out", deniedKey] + alice).status == 3)
        #expect(!FileManager.default.fileExists(atPath: duplicateKey), "left behind by a name conflict")
        #expect(!FileManager.default.fileExists(atPath: janitorKey), "left behind by an unknown role")
        #expect(!FileManager.default.fileExists(atPath: deniedKey), "left behind by an access denial")

        let retry = try cli.run(["principal", "add", "carol", "--role", "support", "--key-file-out", janitorKey])
        #expect(retry.status == 0, "retry: \(retry.stderr)")
        #expect(FileManager.default.fileExists(atPath: janitorKey))
        let carol = try cli.run(["customer", "list", "--purpose", "support_ticket", "--principal", "carol", "--key-file", janitorKey])
        #expect(carol.status == 0, "the retried key file unlocks carol: \(carol.stderr)")
    }

    @Test("an existing key file is never overwritten: principal add exits 1, says why and what to do, and the file keeps its bytes")
    func existingKeyFileIsKept() throws {
        let cli = try Self.initialised()
        let existing = cli.path("left-over.key")
        let original = Array(repeating: UInt8(7), count: 32)
        try Data(original).write(to: URL(fileURLWithPath: existing))
        let refused = try cli.run(["principal", "add", "erin", "--role", "support", "--key-file-out", existing])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("never overwritten") && refused.stderr.contains("principal list"), "\(refused.stderr)")
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: existing))) == original)
        let listed = try cli.run(["principal", "list", "--json"])
        #expect(listed.status == 0 && !listed.stdout.contains("\"erin\""), "a refused add stored the principal")
    }

    // MARK: - unlocking as another principal

    @Test("the new principal unlocks with its key file; a grant that needs a purpose is refused without one (exit 3)")
    func unlockAndPurposes() throws {
        let cli = try Self.initialised()
        let alice = try Self.addAlice(cli)
        let eu = try Self.addCustomer(cli, name: "Eva Europa", email: "eva@example.com", region: "EU")
        let uk = try Self.addCustomer(cli, name: "Uma Albion", email: "uma@example.com", region: "UK")

        let listed = try cli.run(["customer", "list", "--purpose", "support_ticket"] + alice)
        #expect(listed.status == 0, "\(listed.stderr)")
        let ids = listed.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(ids.contains(eu), "\(listed.stdout)")
        #expect(!ids.contains(uk), "row condition regions=EU should hide the UK customer: \(listed.stdout)")

        let noPurpose = try cli.run(["customer", "list"] + alice)
        #expect(noPurpose.status == 3, "\(noPurpose.stderr)")
        #expect(noPurpose.stdout.isEmpty)
        #expect(noPurpose.stderr.contains("support_ticket") && noPurpose.stderr.contains("fraud_investigation"), "\(noPurpose.stderr)")

        let wrongPurpose = try cli.run(["customer", "list", "--purpose", "legal_request"] + alice)
        #expect(wrongPurpose.status == 3, "\(wrongPurpose.stderr)")
        #expect(wrongPurpose.stderr.contains("legal_request is not accepted"), "\(wrongPurpose.stderr)")
    }

    @Test("a support principal may not manage principals or policies (exit 3)")
    func nonAdminCannotManage() throws {
        let cli = try Self.initialised()
        let alice = try Self.addAlice(cli)
        let before = try Self.principals(cli)

        let add = try cli.run(["principal", "add", "dave", "--role", "support", "--key-file-out", cli.path("dave.key")] + alice)
        #expect(add.status == 3, "\(add.stderr)")
        #expect(add.stderr.contains("principals.manage"), "\(add.stderr)")
        #expect(try cli.run(["principal", "list"] + alice).status == 3)
        #expect(try cli.run(["principal", "disable", "admin"] + alice).status == 3)
        let apply = try cli.run(["policy", "apply", Self.shippedPolicy.path] + alice)
        #expect(apply.status == 3, "\(apply.stderr)")
        #expect(try Self.principals(cli) == before)
    }

    // MARK: - principal disable

    @Test("principal disable: the principal's next command exits 3, and it is listed disabled with no keys")
    func disable() throws {
        let cli = try Self.initialised()
        let alice = try Self.addAlice(cli)
        #expect(try cli.run(["customer", "list", "--purpose", "support_ticket"] + alice).status == 0)

        let disabled = try cli.run(["principal", "disable", "alice"])
        #expect(disabled.status == 0, "\(disabled.stderr)")

        let refused = try cli.run(["customer", "list", "--purpose", "support_ticket"] + alice)
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("disabled"), "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)

        let listed = try #require(try Self.principals(cli).first { $0.name == "alice" })
        #expect(listed.disabled == true)
        #expect(listed.keys == 0)
        #expect(try Self.principals(cli).first { $0.name == "admin" }?.disabled == false)
    }

    // MARK: - principal update

    @Test("principal update: new attributes widen the rows seen; a new role gets exactly that role's keys; refusals name the problem")
    func update() throws {
        let cli = try Self.initialised()
        let alice = try Self.addAlice(cli)
        let eu = try Self.addCustomer(cli, name: "Eve Europe", email: "eve@example.com", region: "EU")
        let uk = try Self.addCustomer(cli, name: "Ulf Kingdom", email: "ulf@example.com", region: "UK")
        func seen() throws -> [String] {
            let listed = try cli.run(["customer", "list", "--purpose", "support_ticket", "--json"] + alice)
            #expect(listed.status == 0, "\(listed.stderr)")
            let records = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            return records.compactMap { ($0["id"] as? Int).map(String.init) }
        }
        #expect(try seen() == [eu])
        let widened = try cli.run(["principal", "update", "alice", "--attr", "regions=EU,UK", "--json"])
        #expect(widened.status == 0, "\(widened.stderr)")
        #expect(try seen() == [eu, uk], "the new attribute applies at alice's next open")

        // To marketing: e-mail stays readable but its search key goes, so e-mail is among the fields lost.
        let sideways = try cli.run(["principal", "update", "alice", "--role", "marketing", "--json"])
        #expect(sideways.status == 0, "\(sideways.stderr)")
        #expect((try JSONSerialization.jsonObject(with: Data(sideways.stdout.utf8)) as? [String: Any])?["fields_lost"].flatMap { $0 as? [String] }?
            .contains("customers.email") == true, "\(sideways.stdout)")
        #expect(try cli.run(["principal", "update", "alice", "--role", "support"]).status == 0)
        // The row as it is now, to put back after the next update (what a file writer with an older copy does).
        let aliceRow: Filter = ["name": "alice"]
        let older = try VaultFileInspector(Self.vaultPath(cli)).row("principals", columns: ["role", "attributes", "certificate"], where: aliceRow)
        // Down to analyst, rotating what it loses: its keyring is exactly an analyst's.
        let down = try cli.run(["principal", "update", "alice", "--role", "analyst", "--remove-attr", "regions", "--rotate", "--json"])
        #expect(down.status == 0, "\(down.stderr)")
        struct Update: Decodable { var role: String; var previousRole: String; var keysRemoved: Int; var fieldsLost: [String]; var rotated: [String] }
        let result = try JSONDecoder.cli.decode(Update.self, from: Data(down.stdout.utf8))
        #expect(result.role == "analyst" && result.previousRole == "support" && result.keysRemoved > 0)
        #expect(Set(result.fieldsLost).isSuperset(of: ["customers.name", "customers.email", "customers.phone", "customers.address"]), "\(result.fieldsLost)")
        #expect(result.rotated == result.fieldsLost)
        _ = try cli.run(["principal", "add", "bob", "--role", "analyst", "--key-file-out", cli.path("bob.key")])
        let listed = try Self.principals(cli)
        let aliceNow = try #require(listed.first { $0.name == "alice" }), bob = try #require(listed.first { $0.name == "bob" })
        #expect(aliceNow.role == "analyst" && aliceNow.attributes.isEmpty && aliceNow.keys == bob.keys, "\(aliceNow) vs \(bob)")
        let get = try cli.run(["customer", "get", eu, "--purpose", "support_ticket"] + alice)
        #expect(get.status == 3, "an analyst reads no customer: \(get.stdout)\(get.stderr)")
        #expect(try cli.run(["report"] + alice).status == 0)
        #expect(try cli.run(["verify"]).status == 0)
        // Putting the old role back in the file does not give the keys or the rights back: the certificate no longer matches.
        try VaultFileInspector(Self.vaultPath(cli)).update("principals", set: ["role": "support"], where: aliceRow)
        #expect(try cli.run(["customer", "list", "--purpose", "support_ticket"] + alice).status == 6)
        // Nor does the whole row from before, certificate and all: the update's access-log entry holds what it set.
        let current = try VaultFileInspector(Self.vaultPath(cli)).row("principals", columns: ["role", "attributes", "certificate"], where: aliceRow)
        let before = try #require(older), after = try #require(current)
        try VaultFileInspector(Self.vaultPath(cli)).update("principals", set: [
            "role": before["role"], "attributes": before["attributes"], "certificate": before["certificate"],
        ], where: aliceRow)
        let replayed = try cli.run(["customer", "list", "--purpose", "support_ticket"] + alice)
        #expect(replayed.status == 6 && replayed.stderr.contains("put back from an older copy"), "\(replayed.status) \(replayed.stderr)")
        try VaultFileInspector(Self.vaultPath(cli)).update("principals", set: [
            "role": "analyst", "attributes": after["attributes"], "certificate": after["certificate"],
        ], where: aliceRow)

        for (arguments, status, expected) in [
            (["principal", "update", "alice"], Int32(2), "nothing to change"),
            (["principal", "update", "alice", "--role", "suport"], 2, "roles: "),
            (["principal", "update", "alice", "--remove-attr", "regions"], 2, "has no attribute regions"),
            (["principal", "update", "nobody", "--role", "support"], 5, "nobody"),
            (["principal", "update", "admin", "--role", "support"], 2, "cannot take it from itself"),
            (["principal", "update", "alice", "--attr", "regions"], 2, "--attr takes key=value"),
        ] {
            let refused = try cli.run(arguments)
            #expect(refused.status == status && refused.stderr.contains(expected), "\(arguments): \(refused.status) \(refused.stderr)")
        }
        #expect(try Self.principals(cli).first { $0.name == "admin" }?.role == "admin")
    }

    // MARK: - principal passwd

    @Test("principal passwd: after the change the old passphrase exits 4 and the new one unlocks")
    func passwd() throws {
        let cli = try Self.initialised()
        let first = "bob's first passphrase", second = "bob's second passphrase"
        let added = try cli.run(["principal", "add", "bob", "--role", "support", "--attr", "regions=EU"],
                                extraEnvironment: ["CVAULT_NEW_PASSPHRASE": first])
        #expect(added.status == 0, "\(added.stderr)")
        let bob = ["customer", "list", "--purpose", "support_ticket", "--principal", "bob"]
        #expect(try cli.run(bob, extraEnvironment: ["CVAULT_PASSPHRASE": first]).status == 0)
        let keysBefore = try Self.principals(cli).first { $0.name == "bob" }?.keys

        let changed = try cli.run(["principal", "passwd", "--principal", "bob"],
                                  extraEnvironment: ["CVAULT_PASSPHRASE": first, "CVAULT_NEW_PASSPHRASE": second])
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(changed.stdout.contains("credential of bob changed"), "\(changed.stdout)")

        let old = try cli.run(bob, extraEnvironment: ["CVAULT_PASSPHRASE": first])
        #expect(old.status == 4, "\(old.stderr)")
        #expect(old.stdout.isEmpty)
        let new = try cli.run(bob, extraEnvironment: ["CVAULT_PASSPHRASE": second])
        #expect(new.status == 0, "\(new.stderr)")
        // Only the wrapping changed: the same keys (admin still unlocks: principals() runs as admin).
        let listed = try Self.principals(cli)
        #expect(listed.first { $0.name == "bob" }?.keys == keysBefore)
        #expect(listed.first { $0.name == "bob" }?.credential == "passphrase")
    }

    // MARK: - policy apply

    @Test("policy apply: support's address view none; the keyring change is printed and the address disappears")
    func applyChangesView() throws {
        let cli = try Self.initialised()
        let alice = try Self.addAlice(cli)
        let eu = try Self.addCustomer(cli, name: "Eva Europa", email: "eva@example.com", region: "EU", address: "12 Rue de Rivoli, Paris")
        let get = ["customer", "get", eu, "--purpose", "support_ticket"] + alice
        let addressLines = { (output: String) in output.split(separator: "\n").filter { $0.hasPrefix("address ") } }

        let before = try cli.run(get)
        #expect(before.status == 0, "\(before.stderr)")
        #expect(addressLines(before.stdout).count == 1 && addressLines(before.stdout).allSatisfy { $0.hasSuffix("(masked)") },
                "\(before.stdout)")
        #expect(!before.stdout.contains("Rue de Rivoli"))

        let file = try cli.workspace.write("inputs/no-address.yaml", try Self.shippedPolicy(
            replacing: "customers.address: { view: masked, write: true }", with: "customers.address: { view: none, write: true }"))
        let applied = try cli.run(["policy", "apply", file])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("applied \(file)"), "\(applied.stdout)")
        // The mask key goes; the mask public key (to write without reading) comes.
        #expect(applied.stdout.contains("  alice: +1 keys, -1 keys"), "\(applied.stdout)")
        #expect(!applied.stdout.contains("  admin:"), "the custodian's keyring should not change: \(applied.stdout)")
        #expect(try Self.policyShown(cli).contains("customers.address: { view: none, write: true }"))

        let after = try cli.run(get)
        #expect(after.status == 0, "\(after.stderr)")
        #expect(addressLines(after.stdout).isEmpty, "\(after.stdout)")
        #expect(after.stdout.contains("eva@example.com"), "the rest of the record is still shown: \(after.stdout)")
    }

    @Test("policy apply of a malformed file exits 2 and the vault keeps the policy it had")
    func applyMalformedKeepsPolicy() throws {
        let cli = try Self.initialised()
        try Self.addAlice(cli)
        let before = try Self.policyShown(cli)
        let keysBefore = try Self.principals(cli)

        let unknownAction = try cli.workspace.write("inputs/unknown-action.yaml", try Self.shippedPolicy(
            replacing: "      - interaction.write\n", with: "      - interaction.write\n      - customer.teleport\n"))
        let badYAML = try cli.workspace.write("inputs/bad-syntax.yaml", try Self.shippedPolicy(
            replacing: "deny: [customer.delete, subject.erase]", with: "deny: [customer.delete, subject.erase"))
        for file in [unknownAction, badYAML] {
            let applied = try cli.run(["policy", "apply", file])
            #expect(applied.status == 2, "\(file): \(applied.stderr)")
            #expect(applied.stderr.contains(file), "the error names the file: \(applied.stderr)")
            #expect(applied.stdout.isEmpty, "\(applied.stdout)")
            #expect(try Self.policyShown(cli) == before)
            #expect(try Self.principals(cli) == keysBefore)
        }
    }

    @Test("policy apply without the role of an existing principal exits 2, names the principal, and changes nothing")
    func applyRemovingRole() throws {
        let cli = try Self.initialised()
        try Self.addAlice(cli)
        let before = try Self.policyShown(cli)
        let text = try String(contentsOf: Self.shippedPolicy, encoding: .utf8)
        let support = try #require(text.range(of: "  support:\n")), marketing = try #require(text.range(of: "  marketing:\n"))
        let file = try cli.workspace.write("inputs/no-support.yaml", String(text[..<support.lowerBound] + text[marketing.lowerBound...]))
        // The file itself is valid: only the principal makes it unacceptable.
        #expect(try cli.run(["policy", "check", file]).status == 0)

        let applied = try cli.run(["policy", "apply", file])
        #expect(applied.status == 2, "\(applied.stderr)")
        #expect(applied.stderr.contains("alice"), "\(applied.stderr)")
        #expect(try Self.policyShown(cli) == before)
    }

    // MARK: - policy explain

    @Test("policy explain: masked view for an EU customer (exit 0), row condition fails for UK (exit 3), delete explicitly denied (exit 3)")
    func explain() throws {
        let cli = try Self.initialised()
        try Self.addAlice(cli)
        let eu = try Self.addCustomer(cli, name: "Eva Europa", email: "eva@example.com", region: "EU", address: "12 Rue de Rivoli")
        let uk = try Self.addCustomer(cli, name: "Uma Albion", email: "uma@example.com", region: "UK", address: "1 High Street")
        let read = ["policy", "explain", "--principal", "alice", "--action", "customer.read", "--purpose", "support_ticket", "--field", "address"]
        // explain needs no credential.
        let noCredential = ["CVAULT_PASSPHRASE": "not anyone's passphrase"]

        let visible = try cli.run(read + ["--customer", eu], extraEnvironment: noCredential)
        #expect(visible.status == 0, "\(visible.stderr)")
        #expect(visible.stdout.hasPrefix("allow: alice (role support) customer.read"), "\(visible.stdout)")
        #expect(visible.stdout.contains("field customers.address: view masked"), "\(visible.stdout)")
        #expect(visible.stdout.contains("customer \(eu): visible"), "\(visible.stdout)")

        let hidden = try cli.run(read + ["--customer", uk], extraEnvironment: noCredential)
        #expect(hidden.status == 3, "\(hidden.stderr)")
        #expect(hidden.stdout.hasPrefix("deny: alice"), "\(hidden.stdout)")
        #expect(hidden.stdout.contains("customer \(uk): not visible"), "\(hidden.stdout)")
        #expect(hidden.stdout.contains("row condition region in principal.regions does not hold"), "\(hidden.stdout)")

        let delete = try cli.run(["policy", "explain", "--principal", "alice", "--action", "customer.delete"], extraEnvironment: noCredential)
        #expect(delete.status == 3, "\(delete.stderr)")
        #expect(delete.stdout.contains("explicitly denies customer.delete"), "\(delete.stdout)")
    }

    // MARK: - tampering

    @Test("a principal's role edited in the file: that principal's next command exits 6")
    func tamperedRole() throws {
        let cli = try Self.initialised()
        let alice = try Self.addAlice(cli)
        #expect(try cli.run(["customer", "list", "--purpose", "support_ticket"] + alice).status == 0)

        try VaultFileInspector(Self.vaultPath(cli)).update("principals", set: ["role": "admin"], where: ["name": "alice"])
        let promoted = try cli.run(["customer", "list"] + alice)
        #expect(promoted.status == 6, "\(promoted.stderr)")
        #expect(promoted.stdout.isEmpty, "\(promoted.stdout)")
        #expect(try cli.run(["principal", "list"] + alice).status == 6)
        #expect(try cli.run(["policy", "explain", "--principal", "alice", "--action", "customer.list"]).status == 6)
    }

    @Test("the stored policy edited in the file (granting more): any command by admin exits 6")
    func tamperedPolicy() throws {
        let cli = try Self.initialised()
        try Self.addAlice(cli)
        #expect(try cli.run(["customer", "list"]).status == 0)

        do {
            let file = try VaultFileInspector(Self.vaultPath(cli))
            defer { try? file.close() }
            let stored = try #require(try file.value("value", in: "vault_meta", where: ["name": "policy"])?.data)
            let text = String(decoding: stored, as: UTF8.self)
            let masked = "customers.address: { view: masked, write: true }"
            #expect(text.contains(masked))
            let widened = text.replacingOccurrences(of: masked, with: "customers.address: { view: plain, write: true }")
            try file.update("vault_meta", set: ["value": Data(widened.utf8)], where: ["name": "policy"])
        }
        for command in [["customer", "list"], ["principal", "list"], ["policy", "show"],
                        ["customer", "add", "--name", "New One", "--email", "new@example.com"]] {
            let result = try cli.run(command)
            #expect(result.status == 6, "\(command): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(command): \(result.stdout)")
        }
    }
}
