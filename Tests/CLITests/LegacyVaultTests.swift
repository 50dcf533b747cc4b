import Foundation
import Testing
import VaultFileInspector

/// A vault made by the cvault of commit 62f2ca4 (before issue #17 changed the format), kept in
/// Tests/Fixtures/legacy-62f2ca4 with its key files, its sidecar ledger, a backup and the data it
/// was made from (make.sh says how): what a user upgrading brings along.
@Suite("Vaults made before record integrity")
struct LegacyVaultTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/legacy-62f2ca4")

    /// A copy of the fixture in a workspace of its own, with a CLI pointed at it.
    static func copy() throws -> (Workspace, CLI) {
        let workspace = try Workspace()
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture.path) {
            try FileManager.default.copyItem(atPath: fixture.appendingPathComponent(name).path, toPath: workspace.path(name))
        }
        var cli = CLI(workspace: workspace, passphrase: nil)
        cli.environment["CVAULT_VAULT"] = workspace.path("legacy.vault")
        return (workspace, cli)
    }

    /// The `email` column of each data row of a CSV file, in file order (RFC 4180: quoted fields
    /// may hold commas, quotes and line breaks).
    static func emails(_ file: String) throws -> [String] {
        let text = try String(contentsOfFile: fixture.appendingPathComponent(file).path, encoding: .utf8)
        var records: [[String]] = [], record: [String] = [], field = "", quoted = false
        var characters = text.makeIterator()
        while let c = characters.next() {
            switch (c, quoted) {
            case ("\"", true): quoted = false
            case ("\"", false): if field.isEmpty { quoted = true } else { field.append(c) }
            case (",", false): record.append(field); field = ""
            case ("\n", false), ("\r\n", false): record.append(field); field = ""; records.append(record); record = []
            default: field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        guard let header = records.first, let column = header.firstIndex(of: "email") else { return [] }
        return records.dropFirst().map { $0[column].lowercased() }
    }

    @Test("the first key-custodian open upgrades it; nothing is lost, every role works, the log and its old checkpoint still verify")
    func upgrade() throws {
        let (workspace, cli) = try Self.copy()
        let head = try String(contentsOfFile: workspace.path("head.txt"), encoding: .utf8).split(separator: " ").first.map(String.init) ?? ""
        func run(_ arguments: [String], as principal: String = "admin") throws -> CLI.Result {
            try cli.run(arguments + ["--principal", principal, "--key-file", workspace.path("\(principal).key")])
        }
        // Credential-free verification works on the file as it was.
        #expect(try cli.run(["audit", "verify", "--expect-head", head]).status == 0)
        // Other roles wait for a custodian, and are told so.
        let early = try run(["customer", "list"], as: "marketing")
        #expect(early.status == 1 && early.stderr.contains("key custodian must open it once"), "\(early.stderr)")

        let first = try run(["customer", "list", "--limit", "1000", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let customers = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [[String: Any]])
        let emails = Set(customers.compactMap { ($0["fields"] as? [String: String])?["email"] })
        // Every customer of the file the vault was made from, and the one intake wrote (under a write session).
        // Ids follow the file's order; make.sh erased customer 5 and let intake add one.
        var expected = try Self.emails("customers.csv")
        expected.remove(at: 4)
        #expect(emails == Set(expected + ["legacy.intake@example.com"]), "differ: \(emails.symmetricDifference(expected + ["legacy.intake@example.com"]).sorted())")
        let verified = try run(["verify"])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(try cli.run(["audit", "verify", "--expect-head", head]).status == 0, "the checkpoint taken before the upgrade still matches")
        let log = try VaultFileInspector(workspace.path("legacy.vault")).values("detail", in: "audit_log", where: ["action": "vault.upgrade"], orderBy: ["seq"]).map {
            try #require($0.text)
        }
        // One transaction, one entry: an upgrade cut short leaves the old format, and is run again.
        #expect(log.count == 1 && log[0].hasPrefix("upgrade finished: ") && log[0].hasSuffix(" rows tagged, schema signed"), "\(log)")

        // Every role as before the upgrade.
        #expect(try run(["customer", "list"], as: "marketing").status == 0)
        let support = try cli.run(["customer", "get", "1", "--purpose", "support_ticket", "--principal", "support", "--key-file", workspace.path("support.key")])
        #expect(support.status == 0 && support.stdout.contains("(masked)"), "\(support.stdout) \(support.stderr)")
        #expect(try run(["report"], as: "analyst").status == 0)
        #expect(try run(["audit", "log"], as: "auditor").status == 0)
        #expect(try run(["backup", "create", workspace.path("after.cvbackup")], as: "backup_operator").status == 0)
        #expect(try run(["customer", "list"], as: "leaver").status == 3, "the principal disabled before the upgrade stays disabled")
        let intake = try run(["customer", "add", "--name", "After Upgrade", "--email", "after.upgrade@example.com", "--region", "EU"], as: "intake")
        #expect(intake.status == 0, "\(intake.stderr)")
        // The erasure made before the upgrade is in the ledger, attested by the custodian, and the sidecar was rewritten signed.
        let ledger = try String(contentsOfFile: workspace.path("legacy.vault.erasures"), encoding: .utf8)
        #expect(ledger.contains("\"signedBy\":\"admin\"") && ledger.contains("\"principal\":\"dpo\""), "\(ledger)")
        #expect(try run(["erasures", "list"]).stdout.contains("customer 5"))
        // The passphrase principal changes its credential (new key pairs) like any other.
        let passwd = try cli.run(["principal", "passwd", "--principal", "alice", "--key-file-out", workspace.path("alice.key")],
                                 extraEnvironment: ["CVAULT_PASSPHRASE": "legacy alice passphrase"])
        #expect(passwd.status == 0, "\(passwd.stderr)")
        #expect(try run(["customer", "list", "--purpose", "support_ticket"], as: "alice").status == 0)
        #expect(try cli.run(["audit", "verify"]).status == 0)
    }

    @Test("names indexed before folding: found as before, and by any folding once `keys rotate --field name` rebuilt the index")
    func legacyNameIndex() throws {
        let (workspace, cli) = try Self.copy()
        func run(_ arguments: [String]) throws -> CLI.Result {
            try cli.run(arguments + ["--principal", "admin", "--key-file", workspace.path("admin.key")])
        }
        func found(_ name: String) throws -> [String] {
            let result = try run(["customer", "find", "--name", name, "--json"])
            #expect(result.status == 0 || result.status == 5, "\(result.stderr)")
            let records = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [[String: Any]] ?? []
            return records.compactMap { ($0["fields"] as? [String: String])?["email"] }
        }
        let leticia = ["leticia.silva30@mail.example.com"]
        // The old index holds "letícia silva" (accents kept): the name as written, in any case, still finds her.
        #expect(try found("Letícia Silva") == leticia)
        #expect(try found("LETÍCIA  SILVA") == leticia)
        #expect(try found("leticia silva").isEmpty, "the old entry cannot answer the folded form; if it does, this test no longer shows the rebuild")
        // An auditor's digest covers both forms the access log may hold.
        let hash = try cli.run(["audit", "hash", "--field", "name", "--json", "--principal", "auditor", "--key-file", workspace.path("auditor.key")],
                               stdin: "Letícia Silva\n")
        #expect(hash.status == 0, "\(hash.stderr)")
        #expect(hash.stdout.contains("\"earlier_digest\" : \"") || hash.stdout.contains("\"earlier_digest\":\""), "\(hash.stdout)")

        let rotate = try run(["keys", "rotate", "--field", "name"])
        #expect(rotate.status == 0, "\(rotate.stderr)")
        #expect(try found("leticia silva") == leticia)
        #expect(try found("Letícia Silva") == leticia)
        #expect(try found("FELIX STRAUSS").count == 1, "ß folds to ss")
        #expect(try found("Leticia Silvia").isEmpty)
        #expect(try run(["verify"]).status == 0)
    }

    @Test("a backup of the old format restores, is upgraded, and re-applies its ledger")
    func legacyBackup() throws {
        let (workspace, cli) = try Self.copy()
        let restore = try cli.run(["backup", "restore", workspace.path("legacy.cvbackup"), "--to", workspace.path("restored.vault"),
                                   "--principal", "admin", "--key-file", workspace.path("admin.key")])
        #expect(restore.status == 0, "\(restore.stderr)")
        let restored = try cli.run(["verify", "--vault", workspace.path("restored.vault"), "--key-file", workspace.path("admin.key")])
        #expect(restored.status == 0, "\(restored.stderr)")
    }

    @Test("a trigger planted in an old vault is refused before the upgrade runs; a new vault whose schema signature was removed is not 'upgraded'")
    func noUpgradeOverTampering() throws {
        let (workspace, cli) = try Self.copy()
        try VaultFileInspector(workspace.path("legacy.vault")).plant(.silenceAccessLog)
        let planted = try cli.run(["customer", "list", "--key-file", workspace.path("admin.key")])
        #expect(planted.status == 6 && planted.stderr.contains("trigger quiet"), "\(planted.stderr)")

        let fresh = CLI(workspace: workspace)
        let vault = workspace.path("fresh.vault")
        #expect(try fresh.run(["init", "--vault", vault, "--key-file-out", workspace.path("fresh.key")]).status == 0)
        #expect(try VaultFileInspector(vault).delete(from: "vault_meta", where: ["name": "schema_signature"]) == 1)
        let refused = try fresh.run(["customer", "list", "--vault", vault, "--key-file", workspace.path("fresh.key")])
        #expect(refused.status == 6 && refused.stderr.contains("schema signature"), "\(refused.stderr)")
    }
}
