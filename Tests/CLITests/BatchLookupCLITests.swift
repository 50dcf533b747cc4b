import Foundation
import Testing
import VaultFileInspector

/// Many lookups in one process (issue #18): one unlock, one audited transaction per call.
@Suite("cvault customer find and get, many at once")
struct BatchLookupCLITests {
    static func entries(_ cli: CLI) throws -> Int {
        try VaultFileInspector(cli.environment["CVAULT_VAULT"]!).count("audit_log")
    }

    @Test("repeated flags, a file of values and a CSV column each look up every value in one audited transaction")
    func batchFind() throws {
        let (workspace, cli) = try ExitCodeTests.initialised()
        let customers = workspace.path("c.csv")
        try Data("name,email\nAda,ada@example.com\nBob,bob@example.com\nCy,cy@example.com\n".utf8).write(to: URL(fileURLWithPath: customers))
        #expect(try cli.run(["import", "customers", customers]).status == 0)

        let before = try Self.entries(cli)
        let flags = try cli.run(["customer", "find", "--email", "ADA@example.com", "--email", "nobody@example.com", "--email", "cy@example.com", "--json"])
        #expect(flags.status == 0, "\(flags.stderr)")
        #expect(try Self.entries(cli) == before + 1, "one access-log entry for the whole lookup")
        let answers = try #require(try JSONSerialization.jsonObject(with: Data(flags.stdout.utf8)) as? [[String: Any]])
        #expect(answers.map { $0["query"] as? String } == ["ADA@example.com", "nobody@example.com", "cy@example.com"])
        #expect(answers.map { ($0["matches"] as? [Any])?.count } == [1, 0, 1])

        let list = workspace.path("emails.txt")
        try Data("bob@example.com\n\n  cy@example.com \nnobody@example.com\n".utf8).write(to: URL(fileURLWithPath: list))
        let file = try cli.run(["customer", "find", "--from", list, "--by", "email", "--json"])
        #expect(file.status == 0, "\(file.stderr)")
        let fromFile = try #require(try JSONSerialization.jsonObject(with: Data(file.stdout.utf8)) as? [[String: Any]])
        #expect(fromFile.map { ($0["matches"] as? [Any])?.count } == [1, 1, 0])
        let stdin = try cli.run(["customer", "find", "--from", "-", "--by", "email"], stdin: "ada@example.com\nbob@example.com\n")
        #expect(stdin.status == 0 && stdin.stdout.contains("== ada@example.com: 1 match") && stdin.stderr.contains("2 of 2 values matched"), "\(stdin.stdout)")

        let csv = workspace.path("export.csv")
        try Data("id,E-mail,note\n1,cy@example.com,x\n2,\"bob@example.com\",y\n".utf8).write(to: URL(fileURLWithPath: csv))
        let column = try cli.run(["customer", "find", "--from", csv, "--by", "email", "--column", "e-mail", "--json"])
        #expect(column.status == 0, "\(column.stderr)")
        #expect((try JSONSerialization.jsonObject(with: Data(column.stdout.utf8)) as? [[String: Any]])?.count == 2)
        let wrongColumn = try cli.run(["customer", "find", "--from", csv, "--by", "email", "--column", "emial"])
        #expect(wrongColumn.status == 2 && wrongColumn.stderr.contains("no column 'emial'"), "\(wrongColumn.stderr)")

        let none = try cli.run(["customer", "find", "--email", "x@example.com", "--email", "y@example.com"])
        #expect(none.status == 5, "no value matched")
        let malformed = try cli.run(["customer", "find", "--email", "ada@example.com", "--email", "julienblanchet"])
        #expect(malformed.status == 2 && malformed.stderr.contains("--email value 2 is not a valid"), "\(malformed.stderr)")
        #expect(!malformed.stderr.contains("julienblanchet"), "the value is never echoed")
        let noField = try cli.run(["customer", "find", "--from", list])
        #expect(noField.status != 0 && noField.stderr.contains("--by"), "\(noField.stderr)")
    }

    @Test("customer get reads several ids in one process: an object for one, an array for several")
    func batchGet() throws {
        let (_, cli) = try ExitCodeTests.initialised()
        for n in 1...3 {
            #expect(try cli.run(["customer", "add", "--name", "P\(n)", "--email", "p\(n)@example.com"]).status == 0)
        }
        let one = try cli.run(["customer", "get", "2", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])?["id"] as? Int == 2)
        let several = try cli.run(["customer", "get", "3", "1", "--json"])
        let records = try #require(try JSONSerialization.jsonObject(with: Data(several.stdout.utf8)) as? [[String: Any]])
        #expect(records.map { $0["id"] as? Int } == [3, 1])
        #expect(try cli.run(["customer", "get", "1", "99"]).status == 5)
    }
}
