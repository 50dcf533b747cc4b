import CustomerVault
import Foundation
import Testing
import VaultFileInspector

/// The file system fails under the vault: it fills up during an import or a backup, it is
/// read-only, or the vault's path goes away while a command runs. Each time `cvault` stops with a
/// clear error and a documented exit code, keeps every row it acknowledged, leaves no partial file
/// behind, and the vault opens, passes `integrity_check` and `audit verify`, and the interrupted
/// work finishes when run again. Real file systems are used (tmpfs mounts of a given size), so the
/// suite needs root and `mount`; elsewhere it is skipped and says so.
@Suite("Resource faults: disk full, read-only vault, vanished path", .serialized, .enabled(if: TmpfsMount.available))
struct ResourceFaultTests {
    // MARK: - disk full

    @Test("disk full during an import: exit 1 naming the cause and the resume point, every committed row kept, the same command finishes once there is room")
    func diskFullDuringImport() async throws {
        let workspace = try Workspace()
        let data = try ScaleImportTests.generate(3_000, seed: 31, into: workspace, folder: "inputs/data")
        let csv = data.appendingPathComponent("customers.csv").path
        let disk = try TmpfsMount(sizeKiB: 2_048)
        var cli = CLI(workspace: workspace)
        let vaultPath = disk.path("full.vault")
        cli.environment["CVAULT_VAULT"] = vaultPath
        #expect(try cli.run(["init"]).status == 0)

        let failed = try cli.run(["import", "customers", csv, "--batch", "100"])
        #expect(failed.status == 1, "exit \(failed.status): \(failed.stderr)")
        #expect(failed.stderr.contains("the file system is full"), "\(failed.stderr)")
        #expect(failed.stderr.contains("the same command resumes after record"), "\(failed.stderr)")
        try Self.expectNoPersonalData(in: failed.output, from: csv)

        // The vault is whole and holds exactly what the message says was committed.
        let stated = try #require(Self.committedRows(in: failed.stderr), "the error states how many rows were committed")
        let state = try await Self.inspect(vaultPath)
        #expect(state.integrity == "ok")
        #expect(state.customers == stated && state.committed == stated, "stored \(state.customers), progress \(state.committed), stated \(stated)")
        #expect(stated > 0 && stated < 2_970, "the disk filled part-way (\(stated) rows committed)")
        #expect(try cli.run(["audit", "verify"]).status == 0, "the access log verifies on the full disk")

        try disk.resize(kiB: 65_536)
        let finished = try cli.run(["import", "customers", csv, "--batch", "100", "--json"])
        let report = try JSONDecoder.cli.decode(ImportReport.self, from: Data(finished.stdout.utf8))
        let invalid = try ScaleImportTests.expectedInvalid(data)
        #expect(report.resumedAfterRecord != nil)
        #expect(report.accepted == 3_000 - invalid.count && report.rejects.map(\.record) == invalid)
        let after = try await Self.inspect(vaultPath)
        #expect(after.integrity == "ok" && after.customers == 3_000 - invalid.count)
        #expect(try cli.run(["audit", "verify"]).status == 0)
    }

    @Test("disk full during a backup, where the backup goes and where the vault is: exit 1, no backup or temporary file left, the vault unchanged")
    func diskFullDuringBackup() async throws {
        let workspace = try Workspace()
        let data = try ScaleImportTests.generate(2_000, seed: 32, into: workspace, folder: "inputs/data")
        let csv = data.appendingPathComponent("customers.csv").path

        // 1. The backup's file system is full (a vault of several MiB, 256 KiB of room).
        let cli = CLI(workspace: workspace)
        let vaultPath = cli.environment["CVAULT_VAULT"]!
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["import", "customers", csv]).status == 1, "the planted invalid rows exit 1")
        let before = try await Self.inspect(vaultPath)
        let small = try TmpfsMount(sizeKiB: 256)
        let refused = try cli.run(["backup", "create", small.path("nightly.cvbackup")])
        #expect(refused.status == 1, "exit \(refused.status): \(refused.stderr)")
        #expect(refused.stderr.contains("No space left on device") || refused.stderr.contains("full"), "\(refused.stderr)")
        let leftOnDisk = try small.contents()
        #expect(leftOnDisk.isEmpty, "left on the full disk: \(leftOnDisk)")
        #expect(try Self.snapshots(beside: vaultPath).isEmpty)
        let after = try await Self.inspect(vaultPath)
        #expect(after.integrity == "ok" && after.customers == before.customers && after.fingerprint == before.fingerprint)
        #expect(try cli.run(["audit", "verify"]).status == 0)
        let log = try cli.run(["audit", "log", "--json"])
        #expect(log.stdout.contains("\"failed\""), "the failed backup is in the access log")
        let retry = try cli.run(["backup", "create", workspace.path("nightly.cvbackup")])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try cli.run(["backup", "verify", workspace.path("nightly.cvbackup")]).status == 0)

        // 2. The vault's own file system is full, so the snapshot beside it cannot be written.
        let disk = try TmpfsMount(sizeKiB: 16_384)
        var local = CLI(workspace: workspace)
        let localVault = disk.path("local.vault")
        local.environment["CVAULT_VAULT"] = localVault
        #expect(try local.run(["init"]).status == 0)
        #expect(try local.run(["import", "customers", csv]).status == 1)
        #expect(try local.run(["customer", "list", "--limit", "1"]).status == 0)  // checkpoints the WAL on close
        try disk.fill(leavingKiB: 192)
        let localBefore = try await Self.inspect(localVault)
        let full = try local.run(["backup", "create", workspace.path("local.cvbackup")])
        #expect(full.status == 1, "exit \(full.status): \(full.stderr)")
        #expect(full.stderr.contains("full") || full.stderr.contains("No space left on device"), "\(full.stderr)")
        #expect(!FileManager.default.fileExists(atPath: workspace.path("local.cvbackup")))
        #expect(try Self.partials(in: workspace.url.path, of: "local.cvbackup").isEmpty)
        let snapshotsLeft = try Self.snapshots(beside: localVault)
        #expect(snapshotsLeft.isEmpty, "left beside the vault: \(snapshotsLeft)")
        let localAfter = try await Self.inspect(localVault)
        #expect(localAfter.integrity == "ok" && localAfter.fingerprint == localBefore.fingerprint)
        try disk.removeFiller()
        #expect(try local.run(["backup", "create", workspace.path("local.cvbackup")]).status == 0)
        #expect(try local.run(["audit", "verify"]).status == 0)
    }

    // MARK: - read-only vault

    @Test("a vault on a read-only file system: every credentialed command exits 1 saying it needs write access, audit verify works, the files are untouched")
    func readOnlyVault() async throws {
        let workspace = try Workspace()
        let disk = try TmpfsMount(sizeKiB: 8_192)
        var cli = CLI(workspace: workspace)
        let vaultPath = disk.path("ro.vault")
        cli.environment["CVAULT_VAULT"] = vaultPath
        #expect(try cli.run(["init"]).status == 0)
        let added = try cli.run(["customer", "add", "--name", "Ada Lovelace", "--email", "ada@example.com", "--region", "EU"])
        #expect(added.status == 0, "\(added.stderr)")
        let csv = try workspace.write("inputs/more.csv", "name,email,region\nGrace Hopper,grace@example.com,US\n")
        let files = try disk.files()

        try disk.remount(readOnly: true)
        for arguments in [["customer", "list"], ["customer", "add", "--name", "Alan Turing", "--email", "alan@example.com"],
                          ["import", "customers", csv], ["backup", "create", workspace.path("ro.cvbackup")], ["keys", "rotate", "--all"]] {
            let result = try cli.run(arguments)
            #expect(result.status == 1, "\(arguments.prefix(2).joined(separator: " ")) exited \(result.status): \(result.stderr)")
            #expect(result.stderr.contains("needs write access to the vault file and its directory"), "\(arguments.prefix(2)): \(result.stderr)")
            #expect(!result.output.contains("Ada") && !result.output.contains("ada@"), "a refused command printed personal data")
        }
        #expect(!FileManager.default.fileExists(atPath: workspace.path("ro.cvbackup")))
        let verified = try cli.run(["audit", "verify"])
        #expect(verified.status == 0, "audit verify on read-only media: \(verified.stderr)")
        try disk.remount(readOnly: false)

        #expect(try disk.files() == files, "a file of the vault changed while it was read-only")
        let state = try await Self.inspect(vaultPath)
        #expect(state.integrity == "ok" && state.customers == 1)
        #expect(try cli.run(["customer", "add", "--name", "Alan Turing", "--email", "alan@example.com"]).status == 0)
        #expect(try cli.run(["audit", "verify"]).status == 0)
    }

    // MARK: - vanished path

    @Test("no vault at the path: exit 5 naming it, and nothing is created there")
    func missingVault() throws {
        let workspace = try Workspace()
        var cli = CLI(workspace: workspace)
        let csv = try workspace.write("inputs/one.csv", "name,email\nAda Lovelace,ada@example.com\n")
        for vault in [workspace.path("absent.vault"), workspace.path("no-such-directory/absent.vault")] {
            cli.environment["CVAULT_VAULT"] = vault
            for arguments in [["customer", "list"], ["import", "customers", csv], ["audit", "verify"], ["backup", "create", workspace.path("x.cvbackup")]] {
                let result = try cli.run(arguments)
                #expect(result.status == 5, "\(arguments.prefix(2).joined(separator: " ")) exited \(result.status): \(result.stderr)")
                #expect(result.stderr.contains("no vault at \(vault)"), "\(result.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: vault) && !FileManager.default.fileExists(atPath: vault + "-wal"))
        }
        #expect(!FileManager.default.fileExists(atPath: workspace.path("x.cvbackup")))
    }

    @Test("the vault file renamed while an import runs: exit 1 naming it, nothing more written, every acknowledged row in the file at its new path, the import finishes there")
    func renamedDuringImport() async throws {
        let workspace = try Workspace()
        let data = try ScaleImportTests.generate(20_000, seed: 33, into: workspace, folder: "inputs/data")
        let csv = data.appendingPathComponent("customers.csv").path
        let cli = CLI(workspace: workspace)
        let vaultPath = cli.environment["CVAULT_VAULT"]!
        #expect(try cli.run(["init"]).status == 0)

        let stderr = workspace.path("import.err")
        let pid = try cli.spawn(["import", "customers", csv, "--batch", "100"], stderr: stderr)
        var status: Int32 = 0
        var exited = false
        while !exited, try ImportCrashTests.committedRecords(vaultPath) < 1_000 {
            exited = waitpid(pid, &status, WNOHANG) == pid
            usleep(2_000)
        }
        try #require(!exited, "the import finished before the rename; the test needs a slower import")
        let moved = workspace.path("moved.vault")
        #expect(rename(vaultPath, moved) == 0)
        waitpid(pid, &status, 0)
        let message = try String(contentsOfFile: stderr, encoding: .utf8)
        #expect((status >> 8) & 0xFF == 1, "exit \((status >> 8) & 0xFF): \(message)")
        #expect(message.contains("the vault file was moved, renamed or deleted while it was open"), "\(message)")

        // Every row the import acknowledged is in the file at its new path, with nothing else.
        let stated = try #require(Self.committedRows(in: message), "the error states how many rows were committed")
        let state = try await Self.inspect(moved)
        #expect(state.integrity == "ok")
        #expect(state.customers == stated && state.committed == stated, "stored \(state.customers), progress \(state.committed), stated \(stated)")
        #expect(!FileManager.default.fileExists(atPath: vaultPath), "nothing was written at the old path")

        let extra = ["CVAULT_VAULT": moved]
        #expect(try cli.run(["audit", "verify"], extraEnvironment: extra).status == 0)
        let finished = try cli.run(["import", "customers", csv, "--batch", "100", "--json"], extraEnvironment: extra)
        let report = try JSONDecoder.cli.decode(ImportReport.self, from: Data(finished.stdout.utf8))
        let invalid = try ScaleImportTests.expectedInvalid(data)
        #expect(report.accepted == 20_000 - invalid.count && report.rejects.map(\.record) == invalid)
        #expect(try await Self.inspect(moved).customers == 20_000 - invalid.count)
        #expect(try cli.run(["audit", "verify"], extraEnvironment: extra).status == 0)
    }

    @Test("the vault file deleted while a command holds it open: later writes are refused, not acknowledged into a file nobody can open")
    func deletedWhileOpen() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("gone.vault")
        let vault = try await CustomerVault.create(at: path, schema: try Schema.shippedDefault(), administrator: "admin",
                                                   credential: .passphrase("resource fault passphrase"))
        _ = try await vault.customers.add(["name": "Ada Lovelace", "email": "ada@example.com"])
        try FileManager.default.removeItem(atPath: path)
        for (name, email) in [("Grace Hopper", "grace@example.com"), ("Alan Turing", "alan@example.com")] {
            do {
                _ = try await vault.customers.add(["name": name, "email": email])
                Issue.record("a write into a deleted vault file was acknowledged")
            } catch let error as VaultError {
                #expect(error.code == .io && error.message.contains("moved, renamed or deleted"), "\(error.message)")
                #expect(!error.message.contains(name) && !error.message.contains(email))
            }
        }
        try? vault.close()
    }

    @Test("the vault file replaced under an open handle (as restore --force does): the old handle's writes are refused")
    func replacedWhileOpen() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("replaced.vault")
        let vault = try await CustomerVault.create(at: path, schema: try Schema.shippedDefault(), administrator: "admin",
                                                   credential: .passphrase("resource fault passphrase"))
        _ = try await vault.customers.add(["name": "Ada Lovelace", "email": "ada@example.com"])
        try await vault.checkpoint()
        // Another file takes the path: a copy of this one, renamed over it.
        try FileManager.default.copyItem(atPath: path, toPath: path + ".copy")
        #expect(rename(path + ".copy", path) == 0)
        do {
            _ = try await vault.customers.add(["name": "Grace Hopper", "email": "grace@example.com"])
            Issue.record("a write through a handle on the replaced file was acknowledged")
        } catch let error as VaultError {
            #expect(error.code == .io && error.message.contains("moved, renamed or deleted"), "\(error.message)")
        }
        try? vault.close()
        let count = try VaultFileInspector(path).count("customers")
        #expect(count == 1, "the file now at the path holds what it held when it was put there")
    }

    // MARK: - helpers

    struct VaultState {
        var integrity: String
        var customers: Int
        /// Rows the import progress says were accepted.
        var committed: Int
        /// Every sealed value in order, to tell "unchanged" apart from "still opens".
        var fingerprint: [Data]
    }

    static func inspect(_ path: String) async throws -> VaultState {
        let file = try VaultFileInspector(path)
        defer { try? file.close() }
        let sealed = try file.values("sealed", in: "sealed_values", orderBy: ["entity", "record_id", "field"]).map { try #require($0.data) }
        return VaultState(integrity: try file.integrity() ?? "", customers: try file.count("customers"),
                          committed: try file.sum("accepted", in: "imports"), fingerprint: sealed)
    }

    /// The rows an interrupted import says it committed ("… with 6428 rows accepted and committed …").
    static func committedRows(in message: String) -> Int? {
        guard let range = message.range(of: " rows accepted and committed") else { return nil }
        return Int(String(message[..<range.lowerBound].reversed().prefix { $0.isNumber }.reversed()))
    }

    static func snapshots(beside vault: String) throws -> [String] {
        let directory = (vault as NSString).deletingLastPathComponent
        return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".backup-snapshot-") }
    }

    static func partials(in directory: String, of name: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(name + ".partial-") }
    }

    /// No e-mail address of the input file appears in `output`.
    static func expectNoPersonalData(in output: String, from csv: String) throws {
        let emails = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst()
            .flatMap { $0.split(separator: ",") }.filter { $0.contains("@") && $0.count > 5 }
        let leaked = emails.filter { output.contains($0) }
        #expect(leaked.isEmpty, "\(leaked.count) e-mail addresses of the input appear in the output")
    }
}

/// A tmpfs of a given size mounted on a fresh directory, unmounted when released.
final class TmpfsMount: @unchecked Sendable {
    let url: URL
    private var filler: String { url.appendingPathComponent(".filler").path }

    /// Whether this process may mount file systems (root, and a kernel and container that allow it).
    static let available: Bool = {
        guard getuid() == 0 else {
            print("ResourceFaultTests skipped: they mount tmpfs file systems and need root")
            return false
        }
        do {
            _ = try TmpfsMount(sizeKiB: 64)
            return true
        } catch {
            print("ResourceFaultTests skipped: cannot mount a tmpfs here (\(error))")
            return false
        }
    }()

    init(sizeKiB: Int) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cvault-tmpfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        do {
            try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(sizeKiB)k,mode=0700", "tmpfs", url.path])
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw error
        }
    }

    deinit {
        try? Self.run("/bin/umount", ["-l", url.path])
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func resize(kiB: Int) throws { try Self.run("/bin/mount", ["-o", "remount,size=\(kiB)k", url.path]) }

    func remount(readOnly: Bool) throws { try Self.run("/bin/mount", ["-o", readOnly ? "remount,ro" : "remount,rw", url.path]) }

    /// Fills the file system until about `leavingKiB` remain free.
    func fill(leavingKiB: Int) throws {
        var stats = statvfs()
        guard statvfs(url.path, &stats) == 0 else { throw POSIXError(.EIO) }
        let free = Int(stats.f_bavail) * Int(stats.f_frsize)
        let size = max(0, free - leavingKiB * 1_024)
        guard FileManager.default.createFile(atPath: filler, contents: Data(count: size)) else { throw POSIXError(.ENOSPC) }
    }

    func removeFiller() throws { try FileManager.default.removeItem(atPath: filler) }

    /// Names of the files on the file system (the filler excluded).
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0 != ".filler" }.sorted() }

    /// Each file's bytes, by name.
    func files() throws -> [String: Data] {
        var result: [String: Data] = [:]
        for name in try contents() { result[name] = try Data(contentsOf: url.appendingPathComponent(name)) }
        return result
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)"])
        }
    }
}
