import CustomerVault
import Foundation
import Testing

/// Whoever gets the database file, its WAL or SHM, or a temporary file, learns no personal value.
@Suite("No plaintext at rest")
struct AtRestCanaryTests {
    /// Canary values: ASCII and Unicode, upper- and lower-case forms are scanned for.
    static let names = ["Quentin Canaryfield", "Ωμέγα Κανάρι", "Ñandú Pájaro-Canario", "カナリア太郎"]
    static let emails = ["quentin.canary@example.org", "omega.kanari@example.gr", "nandu.canario@example.es", "kanaria@example.jp"]
    static let phones = ["+44 20 7946 0991", "+30 21 0000 0992", "+34 600 000 993", "+81 3 0000 0994"]
    static let addresses = ["77 Canary Wharf Lane, London", "Οδός Κανάρι 5, Αθήνα", "Calle del Canario 9, Sevilla", "東京都カナリア区 1-2-3"]
    static let summaries = ["Canary summary: asked about the parrot", "Σύνοψη καναρινιού με ειδική σημείωση"]
    static let updatedNames = ["Updated Canarystein"]

    static var canaries: [String] {
        // Phones are also scanned in their E.164 digits, the form that is stored.
        names + emails + addresses + summaries + updatedNames + phones.map { $0.filter(\.isNumber) }
    }

    @Test("canaries stored through the library and `cvault import`, updated and deleted, appear nowhere at rest or in output")
    func scan() async throws {
        let workspace = try Workspace()
        var cli = CLI(workspace: workspace)
        // The most verbose logs are part of what is scanned.
        cli.environment["CVAULT_LOG_LEVEL"] = "trace"
        #expect(try cli.run(["init"]).status == 0)

        // Two customers through the CLI import (one rejected row carries a canary in a bad field).
        var csv = "name,age,gender,address,phone,email,region\n"
        for n in 0..<2 {
            csv += "\"\(Self.names[n])\",40,unspecified,\"\(Self.addresses[n])\",\(Self.phones[n]),\(Self.emails[n].uppercased()),EU\n"
        }
        csv += "Rejected Row,40,unspecified,,,\(Self.names[0]) at example,EU\n"
        let customers = try workspace.write("inputs/customers.csv", csv)
        let interactions = try workspace.write("inputs/interactions.csv", """
            customer_email,occurred_at,channel,summary
            \(Self.emails[0]),2025-01-01T10:00:00Z,phone,"\(Self.summaries[0])"

            """)
        // Negative control: the scanner finds the canaries where they are in clear.
        #expect(CanaryScan.occurrences(of: Self.canaries, in: [UInt8](try Data(contentsOf: URL(fileURLWithPath: customers)))).count == 6)
        let imported = try cli.run(["import", "customers", customers, "--rejects", workspace.path("rejects.csv")])
        #expect(imported.status == 1, "one row is refused on purpose")
        #expect(try cli.run(["import", "interactions", interactions]).status == 0)

        // Two more through the library, then updates and a delete.
        let vaultPath = cli.environment["CVAULT_VAULT"]!
        let vault = try await CustomerVault.open(at: vaultPath, principal: "admin", credential: .passphrase("cli test passphrase"))
        var ids: [Int64] = []
        for n in 2..<4 {
            ids.append(try await vault.customers.add(["name": Self.names[n], "email": Self.emails[n], "phone": Self.phones[n],
                                                    "address": Self.addresses[n]]))
        }
        _ = try await vault.history.add(.interactions, customerID: ids[0], values: [
            "occurred_at": "2025-02-02T10:00:00Z", "channel": "chat", "summary": Self.summaries[1]])
        try await vault.customers.update(ids[0], set: ["name": Self.updatedNames[0]])
        #expect(try cli.run(["customer", "update", "1", "--address", "Nowhere Street 1"]).status == 0)
        #expect(try cli.run(["customer", "delete", "2"]).status == 0)

        try scanFiles(workspace, stage: "before checkpoint")
        try await vault.checkpoint()
        try vault.close()
        try scanFiles(workspace, stage: "after checkpoint")

        // Everything the write commands printed, logs included (reads print values by design and are not run here).
        let printed = cli.transcript.all
        #expect(printed.contains("unlocked"), "trace logs were captured")
        #expect(CanaryScan.occurrences(of: Self.canaries, in: Array(printed.utf8)).isEmpty)

        // The values really are in there: the admin reads them back.
        let reopened = try await CustomerVault.open(at: vaultPath, principal: "admin", credential: .passphrase("cli test passphrase"))
        #expect(try await reopened.customers.get(ids[0]).fields["name"] == Self.updatedNames[0])
        #expect(try await reopened.customers.find(field: "email", equalTo: Self.emails[0]).first?.fields["name"] == Self.names[0])
    }

    private func scanFiles(_ workspace: Workspace, stage: String) throws {
        let files = try workspace.filesToScan()
        #expect(files.contains { $0.hasSuffix("cli.vault") })
        #expect(files.contains { $0.hasSuffix("rejects.csv") })
        var scannedBytes = 0
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            scannedBytes += bytes.count
            let found = CanaryScan.occurrences(of: Self.canaries, in: bytes)
            #expect(found.isEmpty, "\(stage): \(URL(fileURLWithPath: file).lastPathComponent) holds \(found.keys.count) canaries")
        }
        #expect(scannedBytes > 10_000)
    }
}
