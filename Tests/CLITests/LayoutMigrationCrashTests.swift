import CustomerVault
import Foundation
import Testing
import VaultFileInspector

/// The migration to one row per record (issue #19, v11–v12) on a vault of 100,000 customers with
/// history, rotated once, with a principal of every role and an erasure, in the layout the
/// release before it wrote: `kill -9` at random moments of the migration, each leaving the file
/// either in the old layout or migrated, then a last open finishing it. Afterwards every row,
/// value, index entry, grant, access-log entry and erasure is the same, compared record by
/// record, and the audit chain and the integrity check pass.
@Suite("The layout migration survives kill -9", .enabled(if: ProcessInfo.processInfo.environment["CVAULT_SKIP_SCALE"] == nil))
struct LayoutMigrationCrashTests {
    static let roles = ["support", "marketing", "analyst", "auditor", "backup_operator", "intake", "dpo"]

    @Test("100,000 customers with history, rotated, every role, an erasure: killed during the migration, it resumes to the same vault")
    func killDuringMigration() async throws {
        let workspace = try Workspace()
        let data = try ScaleImportTests.generate(100_000, seed: 41, into: workspace, folder: "inputs/data")
        var cli = CLI(workspace: workspace, passphrase: nil)
        let adminKey = workspace.path("admin.key")
        #expect(try cli.run(["init", "--key-file-out", adminKey]).status == 0)
        cli.environment["CVAULT_KEY_FILE"] = adminKey
        for kind in ["customers", "transactions", "interactions"] {
            let imported = try cli.run(["import", kind, data.appendingPathComponent("\(kind).csv").path])
            #expect(imported.status <= 1, "import \(kind): \(imported.stderr.prefix(300))")
        }
        for role in Self.roles {
            let extra = role == "support" ? ["--attr", "regions=EU,UK"] : []
            let added = try cli.run(["principal", "add", "p-\(role)", "--role", role, "--key-file-out", workspace.path("\(role).key")] + extra)
            #expect(added.status == 0, "principal add \(role): \(added.stderr)")
        }
        #expect(try cli.run(["keys", "rotate", "--all"]).status == 0)
        #expect(try cli.run(["customer", "erase", "7", "--principal", "p-dpo", "--key-file", workspace.path("dpo.key"),
                             "--purpose", "subject_request"]).status == 0)
        let current = cli.environment["CVAULT_VAULT"]!
        let head = try VaultFileInspector(current).largest("seq", in: "audit_log") ?? 0
        let expected = try LayoutDowngrade.contents(current)
        #expect((expected["customers"]?.count ?? 0) > 98_000 && (expected["transactions"]?.count ?? 0) > 100_000)

        // The vault as the release before the layout change left it, and the time one uninterrupted
        // migration takes (on a copy).
        let old = workspace.path("old.vault")
        try LayoutDowngrade.copy(current, toV10: old)
        #expect(try VaultFileInspector(old).hasPerValueLayout())
        let calibration = workspace.path("calibration.vault")
        try FileManager.default.copyItem(atPath: old, toPath: calibration)
        let started = Date()
        let calibrated = try cli.run(["audit", "head", "--vault", calibration])
        let seconds = Date().timeIntervalSince(started)
        #expect(calibrated.status == 0, "\(calibrated.stderr.prefix(300))")
        #expect(!(try VaultFileInspector(calibration).hasPerValueLayout()))
        print("layout migration of \(expected["customers"]?.count ?? 0) customers: \(String(format: "%.1f", seconds)) s uninterrupted")

        // Kills at random moments of the migration. One that lands after the migration committed
        // finds the file migrated: it starts again from a fresh copy of the old layout, so that at
        // least eight kills interrupt the migration itself, most of them in a row on the same file.
        let pristine = workspace.path("pristine.vault")
        try FileManager.default.copyItem(atPath: old, toPath: pristine)
        let before = try VaultFileInspector(pristine).sealedValueCount()
        var generator = SystemRandomNumberGenerator()
        var interrupted = 0, late = 0, attempts = 0
        while interrupted < 8 && attempts < 40 {
            attempts += 1
            // Connections that may write: after a kill, opening the file recovers its WAL (as the
            // next open of the vault would; nothing committed changes), which a read-only one cannot.
            if try !VaultFileInspector(old).hasPerValueLayout() {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: old + suffix) }
                try FileManager.default.copyItem(atPath: pristine, toPath: old)
            }
            let pid = try cli.spawn(["audit", "head", "--vault", old])
            usleep(UInt32(Double.random(in: 0.05...max(0.1, seconds * 0.9), using: &generator) * 1_000_000))
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == 0 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
            let file = try VaultFileInspector(old)
            #expect(try file.integrity() == "ok")
            // All or nothing: every value still in the old table, or every value in its row.
            #expect(try file.sealedValueCount() == before, "values after a kill")
            if try file.hasPerValueLayout() { interrupted += 1 } else { late += 1 }
        }
        print("layout migration: \(interrupted) kills interrupted it, \(late) came after it committed, in \(attempts) tries")
        #expect(interrupted >= 8, "only \(interrupted) kills landed during the migration")
        let finished = try cli.run(["verify", "--vault", old])
        #expect(finished.status == 0, "verify after the kills: \(finished.stderr.prefix(500))")
        let verified = try cli.run(["audit", "verify", "--vault", old])
        #expect(verified.status == 0, "\(verified.stderr.prefix(300))")

        // Record by record: every table as before the layout change (the access log up to where it
        // was; the opens since appended their own entries).
        let migrated = try LayoutDowngrade.contents(old, auditThrough: head)
        #expect(migrated.keys.sorted() == expected.keys.sorted())
        for table in expected.keys.sorted() where table != "audit_log" {
            let (before, after) = (expected[table] ?? [], migrated[table] ?? [])
            let difference = zip(before, after).first { $0 != $1 }.map { "\($0.0.prefix(120)) ≠ \($0.1.prefix(120))" } ?? "in length"
            #expect(before == after, "\(table): \(before.count) rows before, \(after.count) after, first difference: \(difference)")
        }
        #expect(migrated["audit_log"] == expected["audit_log"], "the access log up to entry \(head)")
        // A customer found through each index, and the erased one empty, as the admin sees them.
        let found = try cli.run(["customer", "get", "2", "--json"])
        #expect(found.status == 0 && found.stdout.contains("\"email\""))
        let erased = try cli.run(["customer", "get", "7", "--json"])
        #expect(erased.status != 0 || !erased.stdout.contains("@"), "the erased customer holds values again")
    }
}
