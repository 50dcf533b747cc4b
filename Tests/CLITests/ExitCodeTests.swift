import Foundation
import Testing
import VaultFileInspector

/// The CLI's contract: one-line errors that name the problem, documented exit codes, and a vault
/// left as it was after bad input.
@Suite("cvault exit codes and bad input")
struct ExitCodeTests {
    static func initialised() throws -> (Workspace, CLI) {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace)
        let created = try cli.run(["init"])
        #expect(created.status == 0, "\(created.stderr)")
        return (workspace, cli)
    }

    /// The customers table and sealed values, to show bad input changed nothing.
    static func snapshot(_ cli: CLI) throws -> [String] {
        try VaultFileInspector(cli.environment["CVAULT_VAULT"]!).contentFingerprint()
    }

    @Test("help teaches: every command documents itself, the exit codes and where secrets come from")
    func help() throws {
        let (_, cli) = try Self.initialised()
        let root = try cli.run(["--help"])
        #expect(root.status == 0)
        for text in ["CVAULT_PASSPHRASE", "--passphrase-file", "Exit codes", "6 integrity", "customer", "import", "export"] {
            #expect(root.stdout.contains(text), "root help lacks \(text)")
        }
        for command in [["customer", "add"], ["customer", "find"], ["customer", "update"], ["import"], ["export"], ["init"]] {
            let help = try cli.run(command + ["--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("--vault") && help.stdout.contains("--json"), "\(command) help")
        }
        #expect(try cli.run(["import", "--help"]).stdout.contains("resumes"))
    }

    @Test("the happy path prints ids and records; --json is machine-readable")
    func happyPath() throws {
        let (_, cli) = try Self.initialised()
        let added = try cli.run(["customer", "add", "--name", "Ada Lovelace", "--email", "ada@example.com", "--phone", "020 7946 0001",
                                 "--country", "GB", "--age", "36", "--region", "UK", "--json"])
        #expect(added.status == 0)
        let id = try #require(try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Int])["id"]
        let found = try cli.run(["customer", "find", "--email", "ADA@example.com", "--json"])
        #expect(found.status == 0)
        let records = try #require(try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as? [[String: Any]])
        #expect(records.count == 1)
        #expect((records.first?["fields"] as? [String: String])?["phone"] == "+442079460001")
        #expect(try cli.run(["customer", "get", String(id ?? 0)]).stdout.contains("Ada Lovelace"))
        #expect(try cli.run(["customer", "update", String(id ?? 0), "--field", "gender=female"]).status == 0)
        #expect(try cli.run(["customer", "list"]).stdout.contains("ada@example.com"))
        #expect(try cli.run(["customer", "find", "--email", "nobody@example.com"]).status == 5)
        #expect(try cli.run(["customer", "behaviour", String(id ?? 0), "--browse", "3", "--purchase", "1"]).stdout
            .contains("browse 3  purchase 1  review 0"))
        #expect(try cli.run(["customer", "behaviour", String(id ?? 0), "--browse", "2"]).stdout.contains("browse 5"))
        #expect(try cli.run(["customer", "behaviour", String(id ?? 0), "--review", "-1"]).status == 2)
        #expect(try cli.run(["customer", "history", String(id ?? 0), "--kind", "interactions"]).status == 0)
        #expect(try cli.run(["customer", "behaviour", "999"]).status == 5)
        #expect(try cli.run(["customer", "delete", String(id ?? 0)]).status == 0)
        #expect(try cli.run(["customer", "get", String(id ?? 0)]).status == 5)
    }

    @Test("a wrong passphrase exits 4 with no output on stdout; corruption of the principal exits 6")
    func wrongPassphrase() throws {
        let (_, cli) = try Self.initialised()
        #expect(try cli.run(["customer", "add", "--name", "Ada", "--email", "ada@example.com"]).status == 0)
        let wrong = try cli.run(["customer", "get", "1"], extraEnvironment: ["CVAULT_PASSPHRASE": "not the passphrase"])
        #expect(wrong.status == 4)
        #expect(wrong.stdout.isEmpty)
        #expect(!wrong.stderr.contains("not the passphrase"))
        #expect(wrong.stderr.split(separator: "\n").count == 1)

        try VaultFileInspector(cli.environment["CVAULT_VAULT"]!).zeroWrappedSecrets()
        let corrupt = try cli.run(["customer", "get", "1"])
        #expect(corrupt.status == 6)
        #expect(corrupt.stdout.isEmpty)
        let stillWrong = try cli.run(["customer", "get", "1"], extraEnvironment: ["CVAULT_PASSPHRASE": "not the passphrase"])
        #expect(stillWrong.status == 4)
    }

    @Test("a tampered envelope exits 6 and prints no personal value")
    func tamperedEnvelope() throws {
        let (_, cli) = try Self.initialised()
        #expect(try cli.run(["customer", "add", "--name", "Canary Tamperson", "--email", "tamper@example.com"]).status == 0)
        let vault = cli.environment["CVAULT_VAULT"]!
        let original = try #require(try VaultFileInspector(vault).value("sealed", in: "sealed_values", where: ["field": "name"])?.bytes)
        // Every region of the envelope: header, nonce, ciphertext, tag.
        for offset in [0, 1, 4, 5, 20, 29, 35, original.count - 16, original.count - 1] {
            var flipped = original
            flipped[offset] ^= 0x20
            try VaultFileInspector(vault).update("sealed_values", set: ["sealed": flipped], where: ["field": "name"])
            let result = try cli.run(["customer", "get", "1"])
            #expect(result.status == 6, "offset \(offset)")
            #expect(!result.output.contains("Tamperson"))
        }
    }

    @Test("bad input gets a one-line error naming the problem, its exit code, and changes nothing", arguments: [
        (["customer", "add", "--name", "A", "--email", "a@example.com", "--field", "shoe_size=42"], 2, "shoe_size"),
        (["customer", "add", "--name", String(repeating: "n", count: 201), "--email", "a@example.com"], 2, "name"),
        (["customer", "add", "--name", "A", "--email", "not-an-email"], 2, "email"),
        (["customer", "add", "--name", "A", "--email", "a@example.com", "--phone", "call me"], 2, "phone"),
        (["customer", "add", "--name", "A", "--email", "a@example.com", "--age", "200"], 2, "age"),
        (["customer", "add", "--name", "A", "--email", "a@example.com", "--age", "3", "--birth-date", "2000-01-01"], 2, "birth-date"),
        (["customer", "add", "--name", "B", "--email", "EXISTING@example.com"], 1, "already exists"),
        (["customer", "get", "12345"], 5, "12345"),
        (["customer", "update", "1"], 2, "nothing to update"),
        (["customer", "find", "--email", "a@example.com", "--phone", "1"], 2, "exactly one"),
        (["customer", "find", "--email", "a@example.com", "--vault", "/nonexistent/v.vault"], 5, "no vault"),
        (["customer", "get", "1", "--passphrase-file", "/nonexistent/pass"], 2, "passphrase file /nonexistent/pass does not exist"),
        (["customer", "get", "1", "--passphrase-file", "/tmp"], 2, "is a directory"),
        (["customer", "get", "1", "--passphrase-file", "BADPASS"], 2, "passphrase file"),
        (["customer", "get", "1", "--principal", "mallory"], 5, "mallory"),
        (["import", "customers", "HEADER"], 2, "unknown column 'shoe_size'"),
        (["import", "customers", "QUOTE"], 2, "line 3"),
        (["import", "customers", "/nonexistent.csv"], 5, "nonexistent.csv"),
        (["import", "planets", "x.csv"], 2, "planets"),
        (["nonsense"], 2, "nonsense"),
    ])
    func badInput(arguments: [String], status: Int32, mention: String) throws {
        let (workspace, cli) = try Self.initialised()
        #expect(try cli.run(["customer", "add", "--name", "Existing", "--email", "existing@example.com"]).status == 0)
        let header = try workspace.write("inputs/header.csv", "name,email,shoe_size\nA,a@example.com,42\n")
        let quote = try workspace.write("inputs/quote.csv", "name,email\nA,a@example.com\n\"B,b@example.com\nC,c@example.com\n")
        let badPass = try workspace.write("inputs/pass", "two\nlines\n")
        let before = try Self.snapshot(cli)
        let args = arguments.map { $0 == "HEADER" ? header : $0 == "QUOTE" ? quote : $0 == "BADPASS" ? badPass : $0 }
        let result = try cli.run(args)
        #expect(result.status == status, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(mention), "\(result.stderr) should mention \(mention)")
        #expect(result.stdout.isEmpty)
        #expect(try Self.snapshot(cli) == before)
    }
}
