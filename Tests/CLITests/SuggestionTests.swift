import Foundation
import Testing

/// A CLI that corrects its user: mistyped subcommands, options, values and field names get one
/// line naming them and what was probably meant, then the usage of the command meant.
@Suite("did you mean")
struct SuggestionTests {
    @Test("subcommands, options, argument values and schema fields", arguments: [
        (["custmer", "list"], "unknown command 'custmer' for 'cvault' (did you mean 'customer'?)", "Usage: cvault customer <subcommand>"),
        (["customer", "fnd", "--email", "a@example.com"], "unknown command 'fnd' for 'cvault customer' (did you mean 'find'?)", "Usage: cvault customer find"),
        (["keys", "rotat"], "(did you mean 'rotate'?)", "Usage: cvault keys rotate"),
        (["customer", "find", "--emial", "a@example.com"], "unknown option '--emial' for 'cvault customer find' (did you mean '--email'?)", "Usage: cvault customer find"),
        (["import", "customers", "x.csv", "--timezon", "UTC"], "unknown option '--timezon' for 'cvault import' (did you mean '--timezone'?)", "Usage: cvault import"),
        (["import", "custmers", "x.csv"], "(did you mean 'customers'?)", "Usage: cvault import"),
        (["customer", "list", "one", "two", "three"], "unexpected argument 'one' (and 2 more)", "Usage: cvault customer list"),
    ])
    func usage(arguments: [String], message: String, usage: String) throws {
        let cli = CLI(workspace: try Workspace())
        let result = try cli.run(arguments)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("cvault: error: ") == true && lines.first?.contains(message) == true, "\(result.stderr)")
        #expect(lines.count == 3 && lines[1].hasPrefix(usage), "one line, then the usage of the command meant: \(result.stderr)")
    }

    @Test("a mistyped schema field is named with its suggestion: import header, update --remove, find --column")
    func fields() throws {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace)
        #expect(try cli.run(["init"]).status == 0)
        let header = try workspace.write("inputs/c.csv", "name,emial,contry\nAda,ada@example.com,GB\n")
        let imported = try cli.run(["import", "customers", header])
        #expect(imported.status == 2)
        #expect(imported.stderr.contains("unknown column 'emial' (did you mean 'email'?)") && imported.stderr.contains("unknown column 'contry' (did you mean 'country'?)"),
                "\(imported.stderr)")
        #expect(try cli.run(["customer", "add", "--name", "Ada Lovelace", "--email", "ada@example.com"]).status == 0)
        let removed = try cli.run(["customer", "update", "1", "--remove", "gendre"])
        #expect(removed.status == 2)
        #expect(removed.stderr.contains("gendre") && removed.stderr.contains("(did you mean 'gender'?)"), "\(removed.stderr)")
        let list = try workspace.write("inputs/list.csv", "Email Address\nada@example.com\n")
        let found = try cli.run(["customer", "find", "--from", list, "--by", "email", "--column", "email adress"])
        #expect(found.status == 2)
        #expect(found.stderr.contains("(did you mean 'email address'?)"), "\(found.stderr)")
    }

    @Test("every command's --help has an example")
    func examples() throws {
        let cli = CLI(workspace: try Workspace())
        let leaves = try JSONContractTests.leafCommands(cli)
        #expect(leaves.count > 30)
        let missing = try leaves.sorted().filter { command in
            !(try cli.run(command.split(separator: " ").map(String.init) + ["--help"]).stdout.contains("Example"))
        }
        #expect(missing.isEmpty, "no example in --help: \(missing)")
    }

    @Test("a weak new passphrase is refused with the reason and the way out; --allow-weak-passphrase accepts it")
    func weakPassphrase() throws {
        let cli = CLI(workspace: try Workspace(), passphrase: "Password123!")
        let refused = try cli.run(["init", "--json"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("the new passphrase is too weak: it is a common password") && refused.stderr.contains("--allow-weak-passphrase"),
                "\(refused.stderr)")
        #expect(!refused.stderr.contains("Password123"), "the passphrase itself is never printed")
        #expect(!FileManager.default.fileExists(atPath: cli.environment["CVAULT_VAULT"]!), "nothing created")
        #expect(try cli.run(["init", "--allow-weak-passphrase"]).status == 0)
    }
}
