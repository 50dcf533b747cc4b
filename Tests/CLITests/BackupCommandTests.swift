import CustomerVault
import Foundation
import Testing
import VaultCrypto
import VaultFileInspector

/// `cvault backup …` as users run it: exit codes for damaged and foreign files, an operator that
/// cannot open what it makes, and at scale a backup taken while another process imports.
@Suite("cvault backup")
struct BackupCommandTests {
    /// An initialised vault (admin key file) with a few customers.
    static func vault(_ workspace: Workspace) throws -> (CLI, auth: [String]) {
        let cli = CLI(workspace: workspace, passphrase: nil)
        let key = workspace.path("admin.key")
        #expect(try cli.run(["init", "--key-file-out", key]).status == 0)
        let auth = ["--key-file", key]
        let csv = try workspace.write("inputs/c.csv", "name,email,phone,address,region\n"
            + (0..<30).map { "Person \($0),p\($0)@example.com,+44 20 7946 \(String(format: "%04d", $0)),\($0) Road,EU\n" }.joined())
        #expect(try cli.run(["import", "customers", csv] + auth).status == 0)
        return (cli, auth)
    }

    @Test("create, inspect, verify, restore; damaged, foreign and future files exit 6, 4 and 1; nothing is overwritten")
    func exitCodes() throws {
        let workspace = try Workspace()
        let (cli, auth) = try Self.vault(workspace)
        let file = workspace.path("b.cvbackup")
        let created = try cli.run(["backup", "create", file, "--json"] + auth)
        #expect(created.status == 0, "\(created.stderr)")
        let report = try JSONDecoder.cli.decode(BackupReport.self, from: Data(created.stdout.utf8))
        #expect(report.chunks >= 1)
        let inspected = try cli.run(["backup", "inspect", file])
        #expect(inspected.status == 0 && inspected.stdout.contains(report.header.keyID))
        #expect(try cli.run(["backup", "verify", file] + auth).status == 0)
        #expect(try cli.run(["backup", "create", file] + auth).status == 1, "an existing backup file is never overwritten")

        // Damaged copies: exit 6, the target is never created.
        let good = try Data(contentsOf: URL(fileURLWithPath: file))
        for (name, bytes) in [("truncated", good.prefix(good.count - 10)), ("flipped", { var d = good; d[d.count / 2] ^= 1; return d }()),
                              ("trailing", good + Data([1, 2, 3]))] {
            let path = workspace.path("\(name).cvbackup")
            try bytes.write(to: URL(fileURLWithPath: path))
            let verified = try cli.run(["backup", "verify", path] + auth)
            #expect(verified.status == 6, "\(name): \(verified.stderr)")
            let restored = try cli.run(["backup", "restore", path, "--to", workspace.path("\(name).vault")] + auth)
            #expect(restored.status == 6, "\(name): \(restored.stderr)")
            #expect(!FileManager.default.fileExists(atPath: workspace.path("\(name).vault")))
        }
        #expect(try cli.run(["backup", "verify", workspace.path("missing.cvbackup")] + auth).status == 5)

        // A future format version: exit 1 with a clear message.
        var future = [UInt8](good)
        future[9] = 2
        let covered = Array(future[0..<(12 + 146)])
        future.replaceSubrange((12 + 146)..<(12 + 146 + 32), with: try BLAKE2b.hash(covered, outputLength: 32))
        try Data(future).write(to: URL(fileURLWithPath: workspace.path("future.cvbackup")))
        let futureRun = try cli.run(["backup", "verify", workspace.path("future.cvbackup")] + auth)
        #expect(futureRun.status == 1 && futureRun.stderr.contains("newer"), "\(futureRun.stderr)")

        // Another vault's recovery key, and a backup of another vault: exit 4.
        let otherSpace = try Workspace()
        let (other, otherAuth) = try Self.vault(otherSpace)
        let otherKey = otherSpace.path("recovery.key")
        #expect(try other.run(["backup", "export-key", "--key-file-out", otherKey] + otherAuth).status == 0)
        #expect(try cli.run(["backup", "verify", file, "--backup-key-file", otherKey]).status == 4)
        let otherFile = otherSpace.path("other.cvbackup")
        #expect(try other.run(["backup", "create", otherFile] + otherAuth).status == 0)
        #expect(try cli.run(["backup", "verify", otherFile] + auth).status == 4)

        // Restore: a new path, then refused over an existing vault without --force.
        let target = workspace.path("restored.vault")
        let restored = try cli.run(["backup", "restore", file, "--to", target] + auth)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try cli.run(["customer", "list", "--vault", target] + auth).stdout.contains("p7@example.com"))
        #expect(try cli.run(["audit", "verify", "--vault", target]).status == 0)
        #expect(try cli.run(["backup", "restore", file, "--to", target] + auth).status == 1)
        #expect(try cli.run(["backup", "restore", file, "--to", target, "--force"] + auth).status == 0)
    }

    @Test("a backup_operator principal makes a backup and cannot verify, restore or export its key (exit 3)")
    func operatorCannotOpen() throws {
        let workspace = try Workspace()
        let (cli, auth) = try Self.vault(workspace)
        let operatorKey = workspace.path("nightly.key")
        #expect(try cli.run(["principal", "add", "nightly", "--role", "backup_operator", "--key-file-out", operatorKey] + auth).status == 0)
        let asOperator = ["--principal", "nightly", "--key-file", operatorKey]
        let file = workspace.path("nightly.cvbackup")
        let created = try cli.run(["backup", "create", file] + asOperator)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try cli.run(["backup", "verify", file] + asOperator).status == 3)
        #expect(try cli.run(["backup", "restore", file, "--to", workspace.path("x.vault")] + asOperator).status == 3)
        #expect(try cli.run(["backup", "export-key", "--key-file-out", workspace.path("x.key")] + asOperator).status == 3)
        #expect(!FileManager.default.fileExists(atPath: workspace.path("x.vault")) && !FileManager.default.fileExists(atPath: workspace.path("x.key")))
        #expect(try cli.run(["customer", "list"] + asOperator).status == 3)
        #expect(try cli.run(["backup", "verify", file] + auth).status == 0)
    }
}

/// At scale: 100,000 customers backed up while another process imports more.
@Suite("cvault backup at scale", .enabled(if: ProcessInfo.processInfo.environment["CVAULT_SKIP_SCALE"] == nil))
struct BackupScaleTests {
    /// Compares every table of two vault files row by row in a stable order (bounded memory).
    static func identical(_ a: String, _ b: String, auditThrough: Int64) throws -> [String] {
        let left = try VaultFileInspector(a)
        defer { try? left.close() }
        return try left.tablesDiffering(from: b, auditThrough: auditThrough)
    }

    @Test("a backup of 100,000 customers taken while another process imports restores every committed batch, no half one, identical otherwise")
    func backupWhileImporting() throws {
        let workspace = try Workspace()
        let first = try ScaleImportTests.generate(100_000, seed: 41, into: workspace, folder: "inputs/first")
        let second = try ScaleImportTests.generate(30_000, seed: 42, into: workspace, folder: "inputs/second")
        let cli = CLI(workspace: workspace, passphrase: nil)
        let key = workspace.path("admin.key")
        #expect(try cli.run(["init", "--key-file-out", key]).status == 0)
        let auth = ["--key-file", key]
        #expect(try cli.run(["import", "customers", first.appendingPathComponent("customers.csv").path] + auth).status <= 1)
        let vaultPath = cli.environment["CVAULT_VAULT"]!
        func customers() throws -> Int { try VaultFileInspector(vaultPath).count("customers") }
        let base = try customers()
        #expect(base > 98_000)

        // Round trip of the quiet vault first: identical table by table.
        let quiet = workspace.path("quiet.cvbackup")
        #expect(try cli.run(["backup", "create", quiet] + auth).status == 0)
        #expect(try cli.run(["backup", "verify", quiet] + auth).status == 0)
        let quietTarget = workspace.path("quiet.vault")
        let restoredQuiet = try cli.run(["backup", "restore", quiet, "--to", quietTarget] + auth)
        #expect(restoredQuiet.status == 0, "\(restoredQuiet.stderr)")
        let entries = try VaultFileInspector(quietTarget).largest("seq", in: "audit_log") ?? 0
        #expect(try Self.identical(vaultPath, quietTarget, auditThrough: entries - 1) == [])

        // Now another process imports in batches of 500 while the backup runs.
        let importer = try cli.spawn(["import", "customers", second.appendingPathComponent("customers.csv").path, "--batch", "500"] + auth)
        let deadline = Date().addingTimeInterval(120)
        while try customers() < base + 1_000, Date() < deadline { usleep(20_000) }
        let committedBefore = try customers()
        let busy = workspace.path("busy.cvbackup")
        let made = try cli.run(["backup", "create", busy] + auth)
        #expect(made.status == 0, "\(made.stderr)")
        var status: Int32 = 0
        waitpid(importer, &status, 0)
        #expect(status == 0 || status == 256, "the import went on during the backup (exit \(status >> 8))")
        let finalCount = try customers()
        let target = workspace.path("busy.vault")
        #expect(try cli.run(["backup", "restore", busy, "--to", target] + auth).status == 0)
        do {
            let file = try VaultFileInspector(target)
            defer { try? file.close() }
            let restoredCustomers = try file.count("customers")
            #expect(restoredCustomers >= committedBefore, "every batch committed before the backup started is in it")
            #expect(restoredCustomers < finalCount, "the backup was taken while the import ran")
            // No half transaction: the customers equal the sum the import batches in the log accepted,
            // and every customer has its sealed values and index entries.
            let logged = try file.values("detail", in: "audit_log", where: ["action": "import", "outcome": "allowed"]).compactMap(\.text)
                .compactMap { detail -> Int? in
                    guard let range = detail.range(of: #"(\d+) accepted"#, options: .regularExpression) else { return nil }
                    return Int(detail[range].split(separator: " ")[0])
                }.reduce(0, +)
            #expect(logged == restoredCustomers)
            #expect(try file.incompleteCustomers() == 0)
            #expect(try file.integrity() == "ok")
        }
        #expect(try cli.run(["audit", "verify", "--vault", target]).status == 0)
    }
}
