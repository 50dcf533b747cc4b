import CustomerVault
import Foundation
import Testing

@Suite("cvault export and restore")
struct ExportTests {
    /// A vault with every kind of record: customers (one with an address over three lines, one
    /// with a formula-like name, one deleted), orders, interactions with multi-line notes, behaviour.
    static func populated(_ workspace: Workspace) async throws -> CLI {
        let cli = CLI(workspace: workspace)
        #expect(try cli.run(["init"]).status == 0)
        let customers = try workspace.write("inputs/customers.csv", """
            name,email,phone,address,age,birth_date,gender,region,country,marketing_consent
            "Núñez, José",jose@example.com,+34 600 000 001,"Calle Mayor 1
            28013 Madrid
            España",41,,male,EU,ES,true
            山田太郎,yamada@example.jp,03-1234-5678,"東京都, 千代田区",,1980-05-06,unspecified,APAC,JP,false
            =SUM(A1),formula@example.com,,"'quoted, apostrophe",30,,female,EU,FR,
            Gone Person,gone@example.com,,,50,,,UK,GB,true
            Zoë Ångström,zoe@example.se,+46 8 123 456,,30,,female,EU,SE,true

            """)
        #expect(try cli.run(["import", "customers", customers]).status == 0)
        let orders = try workspace.write("inputs/orders.csv", """
            customer_email,order_id,order_time,payment_method,amount,currency
            jose@example.com,A-1,2026-05-01 10:00,Credit Card,12.50,EUR
            jose@example.com,A-2,2026-05-02T11:30:00+02:00,bank_transfer,0.99,EUR
            yamada@example.jp,A-3,2026-05-03 09:00,PayPal,1000,JPY
            zoe@example.se,A-4,2026-05-04 09:00,invoice,007.10,

            """)
        #expect(try cli.run(["import", "transactions", orders]).status == 0)
        let contacts = try workspace.write("inputs/contacts.csv", """
            customer_email,occurred_at,channel,summary
            jose@example.com,2026-05-05 10:00,Phone Call,"Asked about delivery.
            Second line, with a comma."
            formula@example.com,2026-05-06 10:00,E-Mail,"+1 called back"

            """)
        #expect(try cli.run(["import", "interactions", contacts]).status == 0)
        let vault = try await CustomerVault.open(at: cli.environment["CVAULT_VAULT"]!, principal: "admin", credential: .passphrase("cli test passphrase"))
        _ = try await vault.history.recordBehaviour(customerID: 1, adding: BehaviourCounters(browse: 7, purchase: 2, review: 1))
        _ = try await vault.history.recordBehaviour(customerID: 5, adding: BehaviourCounters(browse: 3))
        let gone = try #require(try await vault.customers.find(field: "email", equalTo: "gone@example.com").first)
        try await vault.customers.delete(gone.id)
        return cli
    }

    static func files(_ directory: String, format: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for kind in RecordKind.allCases {
            files[kind.rawValue] = try Data(contentsOf: URL(fileURLWithPath: directory + "/\(kind.rawValue).\(format)"))
        }
        return files
    }

    @Test("export all → import with --restore into an empty vault → export all: identical files for every kind, in CSV and in JSON Lines")
    func roundTrip() async throws {
        let workspace = try Workspace()
        let cli = try await Self.populated(workspace)
        for format in ["csv", "jsonl"] {
            let first = workspace.path("first-\(format)")
            let exported = try cli.run(["export", "all", "--format", format, "--output", first])
            #expect(exported.status == 0, "\(exported.stderr)")
            #expect(exported.stdout.isEmpty, "values go to the files only")
            #expect(exported.stderr.contains("4 customers, 4 transactions, 2 interactions, 2 behaviour"), "\(exported.stderr)")
            for kind in RecordKind.allCases {
                let mode = try FileManager.default.attributesOfItem(atPath: first + "/\(kind.rawValue).\(format)")[.posixPermissions] as? Int
                #expect(mode == 0o600)
            }

            var copy = cli
            copy.environment["CVAULT_VAULT"] = workspace.path("copy-\(format).vault")
            #expect(try copy.run(["init"]).status == 0)
            for kind in RecordKind.allCases {
                let imported = try copy.run(["import", kind.rawValue, first + "/\(kind.rawValue).\(format)", "--restore", "--json"])
                #expect(imported.status == 0, "\(kind): \(imported.stdout) \(imported.stderr)")
            }
            let second = workspace.path("second-\(format)")
            #expect(try copy.run(["export", "all", "--format", format, "--output", second]).status == 0)
            let before = try Self.files(first, format: format), after = try Self.files(second, format: format)
            for kind in RecordKind.allCases {
                #expect(before[kind.rawValue] == after[kind.rawValue], "\(kind.rawValue).\(format) differs after the round trip")
                #expect(before[kind.rawValue]?.isEmpty == false)
            }
            let customers = String(decoding: before["customers"] ?? Data(), as: UTF8.self)
            #expect(customers.contains(format == "csv" ? "Calle Mayor 1\n28013 Madrid\nEspaña" : #"Calle Mayor 1\n28013 Madrid\nEspaña"#), "line breaks kept")
            #expect(!customers.contains("gone@example.com"), "a deleted customer is not exported")
        }
        // The two formats hold the same records: JSON Lines restored, exported as CSV, gives the CSV export.
        var fromJSON = cli
        fromJSON.environment["CVAULT_VAULT"] = workspace.path("copy-jsonl.vault")
        let crossed = workspace.path("crossed")
        #expect(try fromJSON.run(["export", "all", "--output", crossed]).status == 0)
        #expect(try Self.files(crossed, format: "csv") == Self.files(workspace.path("first-csv"), format: "csv"))
    }

    @Test("JSON Lines exports are one flat object a line with snake_case keys, numbers, booleans and null")
    func jsonLinesShape() async throws {
        let workspace = try Workspace()
        let cli = try await Self.populated(workspace)
        let result = try cli.run(["export", "customers", "--format", "jsonl"])
        #expect(result.status == 0)
        let objects = try result.stdout.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.count == 4)
        let jose = try #require(objects.first)
        #expect(jose["id"] as? Int == 1)
        #expect(jose["age"] as? Int == 41)
        #expect(jose["marketing_consent"] as? Bool == true)
        #expect(jose["birth_date"] is NSNull)
        #expect(jose["masked"] as? [String] == [])
        #expect(Set(jose.keys) == ["id", "name", "email", "phone", "address", "age", "birth_date", "gender", "region", "country",
                                   "marketing_consent", "age_band", "created_at", "updated_at", "masked"])
        let orders = try cli.run(["export", "transactions", "--format", "jsonl"]).stdout.split(separator: "\n")
        let amounts = try orders.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["amount"] as? Double }
        #expect(amounts == [12.5, 0.99, 1000, 7.1])
        #expect(orders.last?.contains("\"amount\":7.10") == true, "a decimal's digits are kept (leading zeros dropped)")
    }

    @Test("restoring into a vault that issued those ids refuses each such row with its record and field; without --restore rows get new ids")
    func restoreRefusesIssuedIDs() async throws {
        let workspace = try Workspace()
        let cli = try await Self.populated(workspace)
        let out = workspace.path("out")
        #expect(try cli.run(["export", "all", "--output", out]).status == 0)

        var other = cli
        other.environment["CVAULT_VAULT"] = workspace.path("other.vault")
        #expect(try other.run(["init"]).status == 0)
        let somebody = try workspace.write("inputs/somebody.csv", "name,email\nSomebody,somebody@example.com\nSomebody Else,else@example.com\n")
        #expect(try other.run(["import", "customers", somebody]).status == 0)
        let refused = try other.run(["import", "customers", out + "/customers.csv", "--restore"])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("customers: 2 stored, 0 already stored, 2 rejected"), "\(refused.stdout)")
        #expect(refused.stdout.contains("record 2 (line 2): id: is 1, but this vault has issued ids up to 2"), "\(refused.stdout)")
        #expect(!refused.stdout.contains("jose"), "no value in the report")

        var fresh = cli
        fresh.environment["CVAULT_VAULT"] = workspace.path("fresh.vault")
        #expect(try fresh.run(["init"]).status == 0)
        #expect(try fresh.run(["import", "customers", somebody]).status == 0)
        let renumbered = try fresh.run(["import", "customers", out + "/customers.csv", "--json"])
        #expect(renumbered.status == 0, "\(renumbered.stdout)")
        #expect(renumbered.stdout.contains("\"accepted\":4"))
        // History by customer_id needs --restore: another tool's customer ids are not this vault's.
        let history = try fresh.run(["import", "transactions", out + "/transactions.csv"])
        #expect(history.status == 2)
        #expect(history.stderr.contains("customer_id names this vault's customers only when restoring a cvault export")
                && history.stderr.contains("restored with --restore"), "\(history.stderr)")
        let again = try fresh.run(["import", "customers", out + "/customers.csv"])
        #expect(again.stderr.contains("nothing to do"), "\(again.stderr)")
    }

    @Test("a behaviour file's counts replace the stored ones; importing it again changes nothing")
    func behaviourImport() async throws {
        let workspace = try Workspace()
        let cli = try await Self.populated(workspace)
        let file = try workspace.write("inputs/behaviour.csv", """
            customer_email,browse,purchase,review
            jose@example.com,1,1,1
            nobody@example.com,1,1,1
            zoe@example.se,-1,x,2

            """)
        let first = try cli.run(["import", "behaviour", file])
        #expect(first.status == 1)
        #expect(first.stdout.contains("behaviour: 1 stored, 0 already stored, 2 rejected"), "\(first.stdout)")
        #expect(first.stdout.contains("record 3 (line 3): customer_email: no customer has this e-mail address"), "\(first.stdout)")
        #expect(first.stdout.contains("record 4 (line 4): browse: must be a whole number from 0 to 1000000000; purchase: must be a whole number"), "\(first.stdout)")
        let second = try cli.run(["import", "behaviour", file])
        #expect(second.stdout.contains("behaviour: 0 stored, 1 already stored, 2 rejected"), "\(second.stdout)")
        let vault = try await CustomerVault.open(at: cli.environment["CVAULT_VAULT"]!, principal: "admin", credential: .passphrase("cli test passphrase"))
        #expect(try await vault.history.behaviour(customerID: 1) == BehaviourCounters(browse: 1, purchase: 1, review: 1))
    }

    @Test("a JSON Lines file with a bad line names the line; a row exported masked is refused, never stored as a value")
    func jsonLinesErrors() async throws {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace)
        #expect(try cli.run(["init"]).status == 0)
        let file = try workspace.write("inputs/c.jsonl", """
            {"name":"Ann Example","email":"ann@example.com","age":33,"masked":[]}
            not json
            {"name":"Bob","email":"bob@example.com","shoe_size":44}
            {"name":"C.","email":"c***@example.com","masked":["name","email"]}
            {"name":"Dee \\u00e9\\n2","email":"dee@example.com","age":null}

            """)
        let result = try cli.run(["import", "customers", file])
        #expect(result.status == 1)
        #expect(result.stdout.contains("customers: 2 stored, 0 already stored, 3 rejected"), "\(result.stdout)")
        #expect(result.stdout.contains("record 3 (line 2): line 2: not one flat JSON object"), "\(result.stdout)")
        #expect(result.stdout.contains("record 4 (line 3): line 3: a key that the first line does not have"), "\(result.stdout)")
        #expect(result.stdout.contains("record 5 (line 4): masked: the row holds masked values (exported by a role that sees name,email masked)"), "\(result.stdout)")
        let vault = try await CustomerVault.open(at: cli.environment["CVAULT_VAULT"]!, principal: "admin", credential: .passphrase("cli test passphrase"))
        #expect(try await vault.customers.find(field: "email", equalTo: "dee@example.com").first?.fields["name"] == "Dee é\n2")
    }

    @Test("export refuses --json without --output, all without --output, and an existing file without --force")
    func refusals() async throws {
        let workspace = try Workspace()
        let cli = try await Self.populated(workspace)
        let json = try cli.run(["export", "customers", "--json"])
        #expect(json.status == 2)
        #expect(json.stderr.contains("--json prints a summary of an export to --output"))
        #expect(try cli.run(["export", "all"]).stderr.contains("give --output DIR"))
        let out = workspace.path("out")
        #expect(try cli.run(["export", "all", "--output", out]).status == 0)
        let again = try cli.run(["export", "all", "--output", out])
        #expect(again.status != 0)
        #expect(again.stderr.contains("--force"), "\(again.stderr)")
        let summary = try cli.run(["export", "all", "--output", out, "--force", "--json"])
        #expect(summary.status == 0)
        let object = try #require(JSONSerialization.jsonObject(with: Data(summary.stdout.utf8)) as? [String: Any])
        #expect((object["counts"] as? [String: Int])?["transactions"] == 4)
    }
}
