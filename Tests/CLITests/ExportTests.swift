import CustomerVault
import Foundation
import Testing

@Suite("cvault export")
struct ExportTests {
    @Test("a CSV export imports into a new vault with every customer and value intact; JSONL parses; files are 0600")
    func roundTrip() async throws {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace)
        #expect(try cli.run(["init"]).status == 0)
        let source = try workspace.write("inputs/c.csv", """
            name,age,gender,address,phone,email,birth_date,region
            "Núñez, José",41,male,"1 ""Quoted"" St, Madrid",+34 600 000 001,jose@example.com,,EU
            山田太郎,,unspecified,"東京都, 千代田区",+81 3 0000 0001,yamada@example.jp,1980-05-06,APAC
            Zoë Ångström,30,female,,,zoe@example.se,,EU

            """)
        #expect(try cli.run(["import", "customers", source]).status == 0)
        let csv = workspace.path("export.csv")
        let exported = try cli.run(["export", "customers", "--output", csv])
        #expect(exported.status == 0)
        #expect(exported.stdout.isEmpty, "values go to the file only")
        let mode = try FileManager.default.attributesOfItem(atPath: csv)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        var second = cli
        second.environment["CVAULT_VAULT"] = workspace.path("second.vault")
        #expect(try second.run(["init"]).status == 0)
        let reimported = try second.run(["import", "customers", csv, "--json"])
        #expect(reimported.status == 0, "\(reimported.stderr)")

        let first = try await CustomerVault.open(at: cli.environment["CVAULT_VAULT"]!, principal: "admin", credential: .passphrase("cli test passphrase"))
        let copy = try await CustomerVault.open(at: workspace.path("second.vault"), principal: "admin", credential: .passphrase("cli test passphrase"))
        let originals = try await first.listCustomers(limit: 100)
        let copies = try await copy.listCustomers(limit: 100)
        #expect(originals.count == 3)
        #expect(originals.map(\.fields) == copies.map(\.fields))

        let jsonl = try cli.run(["export", "customers", "--format", "jsonl"])
        #expect(jsonl.status == 0)
        let lines = jsonl.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        let decoded = try lines.map { try JSONDecoder().decode(CustomerRecord.self, from: Data($0.utf8)) }
        #expect(decoded.map(\.fields) == originals.map(\.fields))
    }
}
