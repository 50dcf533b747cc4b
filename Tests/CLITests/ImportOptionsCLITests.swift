import Foundation
import Testing

/// `cvault import` as a script uses it on a CRM's export (issue #18).
@Suite("cvault import of real exports")
struct ImportOptionsCLITests {
    @Test("--timezone, --country and --delimiter read the file as written; the rejects file lists every problem, the same on every run")
    func optionsAndRejects() throws {
        let (workspace, cli) = try ExitCodeTests.initialised()
        let customers = workspace.path("customers.csv")
        try Data("""
            Name;Email;Phone;Region
            Ada Lovelace;ada@example.com;020 7946 0001;UK
            ;not-an-email;12;Moon
            Bob;bob@example.com;+1 415 555 0134;US

            """.utf8).write(to: URL(fileURLWithPath: customers))
        let plain = try cli.run(["import", "customers", customers])
        #expect(plain.status == 2 && plain.stderr.contains("separated by ';'"), "\(plain.stderr)")
        var rejectFiles: [Data] = []
        for run in 0..<2 {
            let copy = workspace.path("run\(run).vault")
            let original = cli.environment["CVAULT_VAULT"]!
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: original + suffix) {
                try FileManager.default.copyItem(atPath: original + suffix, toPath: copy + suffix)
            }
            let rejects = workspace.path("rejects\(run).csv")
            let result = try cli.run(["import", "customers", customers, "--delimiter", ";", "--country", "GB", "--rejects", rejects, "--vault", copy])
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stdout.contains("customers: 2 stored, 0 already stored, 1 rejected (times without a zone read in UTC)"), "\(result.stdout)")
            #expect(result.stdout.contains("record 3 (line 3): name: is required; email: is not a valid e-mail address; phone:"), "\(result.stdout)")
            rejectFiles.append(try Data(contentsOf: URL(fileURLWithPath: rejects)))
            let attributes = try FileManager.default.attributesOfItem(atPath: rejects)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        #expect(rejectFiles[0] == rejectFiles[1], "the rejects file is the same on every run")
        let lines = String(decoding: rejectFiles[0], as: UTF8.self).split(separator: "\n")
        #expect(lines.first == "record,line,field,reason")
        #expect(lines.dropFirst().map { $0.split(separator: ",")[2] } == ["\"name\"", "\"email\"", "\"phone\"", "\"region\""], "one line per problem")
        #expect(!lines.contains { $0.contains("not-an-email") || $0.contains("Moon") }, "never a value")

        let orders = workspace.path("orders.csv")
        try Data("""
            Customer Email,Order ID,Order Time,Payment Method,Amount
            ada@example.com,SO-1,2026-07-01 09:30,Credit Card,12.50
            ada@example.com,SO-2,2026-07-01T09:30:00-04:00,Bank Transfer,3

            """.utf8).write(to: URL(fileURLWithPath: orders))
        let copy = workspace.path("run0.vault")
        let imported = try cli.run(["import", "transactions", orders, "--timezone", "America/New_York", "--vault", copy, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as? [String: Any])
        #expect(report["accepted"] as? Int == 2 && report["time_zone"] as? String == "America/New_York", "\(report)")
        let history = try cli.run(["customer", "history", "1", "--kind", "transactions", "--json", "--vault", copy])
        #expect(history.stdout.contains("2026-07-01T13:30:00Z") && history.stdout.contains("\"card\"") && history.stdout.contains("\"bank_transfer\""),
                "\(history.stdout)")
        let again = try cli.run(["import", "transactions", orders, "--timezone", "America/New_York", "--vault", copy])
        #expect(again.status == 0 && again.stderr.contains("nothing to do") && again.stderr.contains("imported completely on"), "\(again.stderr)")
        let badZone = try cli.run(["import", "transactions", orders, "--timezone", "Mars/Olympus", "--vault", copy])
        #expect(badZone.status == 2 && badZone.stderr.contains("not an IANA time zone"), "\(badZone.stderr)")
    }

    @Test("--rejects-plain: the rejects file names each refused row by its plain columns, in any header spelling, and holds no personal value")
    func rejectsWithPlainColumns() throws {
        let (workspace, cli) = try ExitCodeTests.initialised()
        _ = try cli.run(["customer", "add", "--name", "Ada", "--email", "ada@example.com"])
        let orders = try workspace.write("orders.csv", """
            Customer Email,Order ID,Order Time,Payment Method,Amount,Currency
            ada@example.com,SO-1,2026-07-01 09:30,Credit Card,12.50,EUR
            ghost.customer@example.com,SO-2,2026-07-02 10:00,card,3,EUR
            ada@example.com,SO-3,yesterday,card,-4,EUR
            ada@example.com,=1+2,2026-07-03 10:00,barter,5,EUR

            """)
        let rejects = workspace.path("rejects.csv")
        let result = try cli.run(["import", "transactions", orders, "--rejects", rejects, "--rejects-plain"])
        #expect(result.status == 1, "\(result.stderr)")
        let text = try String(contentsOfFile: rejects, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first == "record,line,field,reason,row_order_id,row_order_time,row_payment_method,row_amount,row_currency", "\(text)")
        // Record 3: an unknown customer; record 4: two problems, each line with the row's columns; record 5: a formula cell kept inert.
        #expect(lines.contains { $0.hasPrefix("3,3,") && $0.hasSuffix(",\"SO-2\",\"2026-07-02 10:00\",\"card\",\"3\",\"EUR\"") }, "\(text)")
        #expect(lines.filter { $0.hasPrefix("4,4,") && $0.contains("\"SO-3\",\"yesterday\"") }.count == 2, "\(text)")
        #expect(lines.contains { $0.hasPrefix("5,5,") && $0.contains("\"'=1+2\"") }, "\(text)")
        #expect(!text.contains("ghost.customer") && !text.contains("ada@example.com"), "a personal link column leaked: \(text)")

        let customers = try workspace.write("customers.csv", """
            name,email,phone,region,country,marketing_consent
            Zed Secretname,not-an-email,+44 20 7946 0000,EU,GB,maybe
            Lovelace, Ada,ada.shifted@example.com,+44 20 7946 0001,UK,GB,true

            """)
        let refused = try cli.run(["import", "customers", customers, "--rejects", workspace.path("c.csv"), "--rejects-plain"])
        #expect(refused.status == 1, "\(refused.stderr)")
        let customerRejects = try String(contentsOfFile: workspace.path("c.csv"), encoding: .utf8)
        #expect(customerRejects.hasPrefix("record,line,field,reason,row_region,row_country,row_marketing_consent\n"), "\(customerRejects)")
        #expect(customerRejects.contains("\"EU\",\"GB\",\"maybe\""), "\(customerRejects)")
        // A row with one field too many has its cells shifted: its plain columns stay empty.
        #expect(customerRejects.contains { _ in true } && customerRejects.split(separator: "\n").contains { $0.hasPrefix("3,3,") && $0.hasSuffix(",\"\",\"\",\"\"") },
                "\(customerRejects)")
        for secret in ["Zed", "Secretname", "not-an-email", "7946", "Lovelace", "ada.shifted"] {
            #expect(!customerRejects.contains(secret), "personal value \(secret) in the rejects file")
        }
        let usage = try cli.run(["import", "customers", customers, "--rejects-plain"])
        #expect(usage.status == 2 && usage.stderr.contains("give --rejects FILE too"), "\(usage.stderr)")
    }
}
