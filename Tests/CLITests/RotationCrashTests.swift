import CustomerVault
import Foundation
import Testing
import VaultFileInspector

/// `kill -9` at 20+ random moments during the rotation of 100,000 customers, resuming each time:
/// every record still decrypts, none is left on the old version, the file is intact and the audit
/// chain verifies.
@Suite("Key rotation survives kill -9", .enabled(if: ProcessInfo.processInfo.environment["CVAULT_SKIP_SCALE"] == nil))
struct RotationCrashTests {
    /// Values re-encrypted so far: what the committed batches' access-log entries say (cheap to
    /// poll; the final checks count the values under each version).
    static func moved(_ vaultPath: String) throws -> Int {
        try VaultFileInspector(vaultPath).valuesReencryptedByRotations()
    }

    static func rotations(_ vaultPath: String) throws -> Int { try VaultFileInspector(vaultPath).count("key_rotations") }

    static func integrity(_ vaultPath: String) throws -> String? {
        try VaultFileInspector(vaultPath).integrity()
    }

    @Test("100,000 customers: killed 20+ times during rotation and resumed, the rotation ends complete")
    func killAndResume() async throws {
        let workspace = try Workspace()
        let data = try ScaleImportTests.generate(100_000, seed: 31, into: workspace, folder: "inputs/data")
        let cli = CLI(workspace: workspace, passphrase: nil)
        let key = workspace.path("admin.key")
        #expect(try cli.run(["init", "--key-file-out", key]).status == 0)
        let auth = ["--key-file", key]
        let imported = try cli.run(["import", "customers", data.appendingPathComponent("customers.csv").path, "--json"] + auth)
        let report = try JSONDecoder.cli.decode(ImportReport.self, from: Data(imported.stdout.utf8))
        #expect(report.accepted > 98_000)
        let vaultPath = cli.environment["CVAULT_VAULT"]!
        let total = try VaultFileInspector(vaultPath).sealedValueCount()

        var generator = SystemRandomNumberGenerator()
        var kills = 0, started = false, attempts = 0
        while kills < 20 && attempts < 60 {
            attempts += 1
            let done = try Self.moved(vaultPath)
            guard done < total else { break }
            let pid = try cli.spawn(["keys", "rotate", started ? "--resume" : "--all", "--batch", "500"] + auth)
            // Kill after a random further share of the work, plus a random delay, so kills land in
            // every phase: starting, re-encrypting, committing, finishing.
            let target = done + Int.random(in: 1...max(1, (total - done) / 8), using: &generator)
            var status: Int32 = 0, exited = false
            let deadline = Date().addingTimeInterval(60)
            while !exited, try Self.moved(vaultPath) < target, Date() < deadline {
                exited = waitpid(pid, &status, WNOHANG) == pid
                usleep(5_000)
            }
            if !exited {
                usleep(UInt32.random(in: 0...30_000, using: &generator))
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                kills += 1
            }
            let rotations = try Self.rotations(vaultPath)
            started = started || rotations > 0
            #expect(try Self.integrity(vaultPath) == "ok")
        }
        #expect(kills >= 20, "only \(kills) kills landed during the rotation")
        let finish = try cli.run(["keys", "rotate", started ? "--resume" : "--all"] + auth)
        #expect(finish.status == 0, "\(finish.stderr)")

        // Nothing left on version 1; the old versions can be retired.
        let status = try JSONDecoder.cli.decode(KeysReport.self, from: Data(try cli.run(["keys", "status", "--json"] + auth).stdout.utf8))
        #expect(status.rotationInProgress == nil)
        for field in status.fields {
            #expect(field.valuesByVersion.keys.allSatisfy { $0 == "2" }, "\(field.field): \(field.valuesByVersion)")
            #expect(field.indexEntriesByVersion.keys.allSatisfy { $0 == "2" }, "\(field.field): \(field.indexEntriesByVersion)")
        }
        #expect(try cli.run(["keys", "retire"] + auth).status == 0)

        // Every record decrypts: the export holds every imported e-mail exactly once.
        let export = workspace.path("export.jsonl")
        #expect(try cli.run(["export", "customers", "--format", "jsonl", "--output", export] + auth).status == 0)
        let exported = try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n")
            .map { try ExportedCustomer($0) }
        #expect(exported.count == report.accepted)
        #expect(Set(exported.compactMap { $0.fields["email"] }).count == report.accepted)
        #expect(exported.allSatisfy { $0.fields["name"] != nil })

        #expect(try Self.integrity(vaultPath) == "ok")
        let verify = try cli.run(["audit", "verify"])
        #expect(verify.status == 0, "\(verify.stderr)")
    }
}
