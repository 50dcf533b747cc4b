import CustomerVault
import Foundation
import Testing
import VaultFileInspector

/// `kill -9` at random moments of `backup create` and `backup restore`: afterwards the backup file
/// is absent or complete, the restored vault is absent or complete, and the source vault is intact.
@Suite("Backups survive kill -9", .serialized)
struct BackupCrashTests {
    @Test("12 kills during backup create and 12 during restore: never a partial backup or vault, and the next run succeeds")
    func killDuringBackupAndRestore() throws {
        let workspace = try Workspace()
        let data = try ScaleImportTests.generate(8_000, seed: 51, into: workspace, folder: "inputs/data")
        let cli = CLI(workspace: workspace, passphrase: nil)
        let key = workspace.path("admin.key")
        #expect(try cli.run(["init", "--key-file-out", key]).status == 0)
        let auth = ["--key-file", key]
        #expect(try cli.run(["import", "customers", data.appendingPathComponent("customers.csv").path] + auth).status <= 1)
        let vaultPath = cli.environment["CVAULT_VAULT"]!
        var generator = SystemRandomNumberGenerator()

        // Kills land at a random moment of a run: each operation is timed once uninterrupted, so
        // a faster build or machine does not make most kills arrive after the process exited.
        func timed(_ arguments: [String]) throws -> UInt32 {
            let start = Date()
            #expect(try cli.run(arguments).status == 0, "uninterrupted \(arguments.prefix(2).joined(separator: " "))")
            return UInt32(min(2.0, max(0.02, Date().timeIntervalSince(start))) * 1_000_000)
        }
        let createMicros = try timed(["backup", "create", workspace.path("timing.cvbackup")] + auth)
        let restoreMicros = try timed(["backup", "restore", workspace.path("timing.cvbackup"), "--to", workspace.path("timing.vault")] + auth)

        func killAfter(_ arguments: [String]) throws -> Bool {
            let pid = try cli.spawn(arguments)
            let micros = arguments[1] == "restore" ? restoreMicros : createMicros
            usleep(UInt32.random(in: 0...(micros * 9 / 10), using: &generator))
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return false }
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            return true
        }

        var killed = 0
        for trial in 0..<12 {
            let file = workspace.path("b\(trial).cvbackup")
            if try killAfter(["backup", "create", file] + auth) { killed += 1 }
            if FileManager.default.fileExists(atPath: file) {
                let verified = try cli.run(["backup", "verify", file] + auth)
                #expect(verified.status == 0, "trial \(trial): a backup file exists but does not verify: \(verified.stderr)")
            }
        }
        // A run after the kills is not blocked by their leftovers, and the vault is intact.
        let good = workspace.path("good.cvbackup")
        #expect(try cli.run(["backup", "create", good] + auth).status == 0)
        #expect(try cli.run(["audit", "verify"]).status == 0)
        #expect(try VaultFileInspector(vaultPath).integrity() == "ok")

        for trial in 0..<12 {
            let target = workspace.path("r\(trial).vault")
            if try killAfter(["backup", "restore", good, "--to", target] + auth) { killed += 1 }
            if FileManager.default.fileExists(atPath: target) {
                #expect(try cli.run(["audit", "verify", "--vault", target]).status == 0, "trial \(trial): a restored vault exists but is not complete")
                #expect(try cli.run(["customer", "list", "--limit", "1", "--vault", target] + auth).status == 0)
            }
            // Restoring again to the same place works (a leftover temporary file is cleared).
            let again = try cli.run(["backup", "restore", good, "--to", target, "--force"] + auth)
            #expect(again.status == 0, "\(again.stderr)")
        }
        #expect(killed >= 8, "most runs were killed part-way (\(killed) of 24)")
    }
}
