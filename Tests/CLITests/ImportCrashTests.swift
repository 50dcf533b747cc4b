import CustomerVault
import Foundation
import Testing
import VaultFileInspector

/// `kill -9` during an import, then the same command again: the import finishes with every valid
/// row exactly once, nothing half-stored, and an intact database.
@Suite("Import survives kill -9", .enabled(if: ProcessInfo.processInfo.environment["CVAULT_SKIP_SCALE"] == nil))
struct ImportCrashTests {
    @Test("killed at random moments and resumed, an import ends complete and exact")
    func killAndResume() async throws {
        let workspace = try Workspace()
        let data = try ScaleImportTests.generate(10_000, seed: 21, into: workspace, folder: "inputs/data")
        let csv = data.appendingPathComponent("customers.csv").path
        let cli = CLI(workspace: workspace)
        #expect(try cli.run(["init"]).status == 0)
        let vaultPath = cli.environment["CVAULT_VAULT"]!

        var generator = SystemRandomNumberGenerator()
        var interrupted = 0
        var committed = 0
        for _ in 0..<6 {
            let pid = try cli.spawn(["import", "customers", csv, "--batch", "200"])
            // Kill once the committed progress passes a random point, plus a random delay so the kill
            // lands in different phases (sealing, inserting, committing) whatever the build's speed.
            let target = committed + Int.random(in: 1...1_500, using: &generator)
            var status: Int32 = 0
            var exited = false
            while !exited, try Self.committedRecords(vaultPath) < target {
                exited = waitpid(pid, &status, WNOHANG) == pid
                usleep(2_000)
            }
            if !exited {
                usleep(UInt32.random(in: 0...40_000, using: &generator))
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
            // After every kill the file is a consistent database with whole batches only.
            let check = try { () throws -> (String?, Int, Int, Int) in
                let file = try VaultFileInspector(vaultPath)
                defer { try? file.close() }
                return (try file.integrity(), try file.count("customers"), Int(try file.largest("accepted", in: "imports") ?? 0),
                        try file.count("imports", where: ["finished_at": .notNull]))
            }()
            #expect(check.0 == "ok")
            #expect(check.1 == check.2, "customers stored (\(check.1)) equal the committed progress (\(check.2))")
            if status & 0x7F == SIGKILL && check.3 == 0 { interrupted += 1 }
            committed = try Self.committedRecords(vaultPath)
        }
        #expect(interrupted >= 3, "only \(interrupted) kills landed in an unfinished import")
        let finish = try cli.run(["import", "customers", csv, "--json"])
        let report = try JSONDecoder.cli.decode(ImportReport.self, from: Data(finish.stdout.utf8))
        let expected = try ScaleImportTests.expectedInvalid(data)
        #expect(report.accepted + report.rejected == 10_000)
        #expect(report.rejects.map(\.record) == expected)

        let vault = try await CustomerVault.open(at: vaultPath, principal: "admin", credential: .passphrase("cli test passphrase"))
        #expect(try await vault.customers.count() == 10_000 - expected.count)
        try vault.close()
        let leftovers = try VaultFileInspector(vaultPath).halfStoredCustomers()
        #expect(leftovers == 0, "no half-stored customer")
    }

    /// Records the running import has committed so far (0 before its first batch).
    static func committedRecords(_ vaultPath: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: vaultPath) else { return 0 }
        // Waits for locks: a starting import recovers the WAL of a killed one under an exclusive lock.
        return Int(try VaultFileInspector(vaultPath, busyTimeout: 10).largest("records_done", in: "imports") ?? 0)
    }
}
