import Foundation
import Testing
import VaultFileInspector

/// `cvault audit …` end to end, and fail-closed behaviour when the log cannot be written.
@Suite("cvault audit", .serialized)
struct AuditCommandTests {
    static let canary = ["name": "Qzaudit Canaryperson", "email": "qzaudit.canary@example.com", "phone": "+44 20 7946 0777",
                         "address": "5 Qzaudit Lane"]
    static let fragments = ["Qzaudit", "qzaudit", "Canaryperson", "7946 0777", "79460777"]

    /// A vault with an admin and an auditor (key files), a support agent, and the canary customer.
    static func setUp() throws -> (Workspace, CLI, admin: [String], auditor: [String], support: [String], id: String) {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace, passphrase: nil)
        let adminKey = workspace.path("admin.key")
        #expect(try cli.run(["init", "--key-file-out", adminKey]).status == 0)
        let admin = ["--key-file", adminKey]
        for (name, role) in [("auditor", "auditor"), ("agent", "support")] {
            let added = try cli.run(["principal", "add", name, "--role", role, "--attr", "regions=EU", "--key-file-out",
                                     workspace.path("\(name).key")] + admin)
            #expect(added.status == 0, "\(added.stderr)")
        }
        var add = ["customer", "add", "--region", "EU"] + admin
        for (key, value) in canary { add += ["--\(key)", value] }
        let id = try cli.run(add).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (workspace, cli, admin, ["--principal", "auditor", "--key-file", workspace.path("auditor.key")],
                ["--principal", "agent", "--key-file", workspace.path("agent.key")], id)
    }

    @Test("an auditor reads and verifies the log, checks a searched value by digest, and decrypts no customer field")
    func auditorWorkflow() throws {
        let (_, cli, admin, auditor, support, id) = try Self.setUp()
        // Activity: reads and searches by canary values, allowed and denied.
        #expect(try cli.run(["customer", "get", id] + admin).status == 0)
        #expect(try cli.run(["customer", "find", "--email", Self.canary["email"]!, "--purpose", "support_ticket",
                             "--reason", "ticket 99"] + support).status == 0)
        #expect(try cli.run(["customer", "find", "--name", Self.canary["name"]!] + support).status == 3)
        #expect(try cli.run(["customer", "find", "--phone", Self.canary["phone"]!] + auditor).status == 3)

        // The auditor sees no customer.
        let get = try cli.run(["customer", "get", id] + auditor)
        #expect(get.status == 3 && get.stdout.isEmpty)

        // Verification needs no credential at all.
        let verify = try cli.run(["audit", "verify"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("audit log intact"))

        let head = try cli.run(["audit", "head"] + auditor)
        #expect(head.status == 0, "\(head.stderr)")
        let checkpoint = head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(checkpoint.range(of: #"^[0-9]+:[0-9a-f]{64}$"#, options: .regularExpression) != nil)
        #expect(try cli.run(["audit", "verify", "--expect-head", checkpoint]).status == 0)

        // Reading with filters.
        let log = try cli.run(["audit", "log", "--json", "--limit", "1000"] + auditor)
        #expect(log.status == 0, "\(log.stderr)")
        let entries = log.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(entries.count >= 8)
        let search = try #require(entries.first { $0["action"] as? String == "customer.search" && $0["outcome"] as? String == "allowed" })
        #expect(search["purpose"] as? String == "support_ticket" && search["reason"] as? String == "ticket 99")
        let byCustomer = try cli.run(["audit", "log", "--customer", id, "--json"] + auditor)
        let customerEntries = byCustomer.stdout.split(separator: "\n")
        #expect(!customerEntries.isEmpty && customerEntries.allSatisfy { $0.contains("customers:") })
        let byAgent = try cli.run(["audit", "log", "--of", "agent", "--action", "customer.search"] + auditor)
        #expect(byAgent.stdout.split(separator: "\n").count == 2, "one allowed and one denied search by the agent")

        // `audit hash` takes the value on stdin and finds the search.
        let hash = try cli.run(["audit", "hash", "--field", "email"] + auditor, stdin: " QZAUDIT.Canary@example.com\n")
        #expect(hash.status == 0, "\(hash.stderr)")
        #expect((search["terms"] as? String) == hash.stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        // No canary anywhere in the log's table or in any audit output.
        let table = try VaultFileInspector(cli.environment["CVAULT_VAULT"]!).auditLogText()
        let text = try cli.run(["audit", "log", "--limit", "1000"] + auditor).stdout
        for haystack in [table, text, log.stdout, byAgent.stdout, head.output, verify.output] {
            #expect(!Self.fragments.contains { haystack.contains($0) })
        }
    }

    @Test("audit verify finds an edited entry (exit 6, naming it) and a cut tail against a checkpoint")
    func verifyDetectsTampering() throws {
        let (_, cli, admin, auditor, _, id) = try Self.setUp()
        for _ in 0..<5 { _ = try cli.run(["customer", "get", id] + admin) }
        let checkpoint = try cli.run(["audit", "head"] + auditor).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let seq = Int(checkpoint.split(separator: ":")[0])!
        let path = cli.environment["CVAULT_VAULT"]!
        #expect(try VaultFileInspector(path).update("audit_log", set: ["target": "customers:1"], where: ["seq": 3]) == 1)
        let edited = try cli.run(["audit", "verify"])
        #expect(edited.status == 6)
        #expect(edited.stderr.contains("entry 3"), "\(edited.stderr)")
        try VaultFileInspector(path).delete(from: "audit_log", where: ["seq": .atLeast(3)])
        let cut = try cli.run(["audit", "verify", "--expect-head", checkpoint])
        #expect(cut.status == 6)
        #expect(cut.stderr.contains("entry \(seq)"), "\(cut.stderr)")
        #expect(try cli.run(["audit", "verify", "--expect-head", "nonsense"]).status == 2)
    }

    @Test("audit log --follow prints entries written after it started")
    func follow() throws {
        let (workspace, cli, admin, auditor, _, id) = try Self.setUp()
        let out = workspace.path("follow.out")
        let pid = try cli.spawn(["audit", "log", "--follow", "--json", "--action", "customer.read"] + auditor, stdout: out)
        defer { kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, 0) }
        #expect(try cli.run(["customer", "get", id] + admin).status == 0)
        var seen = ""
        for _ in 0..<100 where !seen.contains("customer.read") {
            usleep(100_000)
            seen = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        }
        #expect(seen.contains("\"action\":\"customer.read\"") && seen.contains("\"principal\":\"admin\""), "\(seen)")
        #expect(!seen.contains("customer.create"), "the --action filter applies while following")
    }

    /// The customers and sealed values, to show a failed write changed nothing.
    static func state(_ path: String) throws -> [String] {
        try VaultFileInspector(path).contentFingerprint()
    }

    @Test("with the write lock held by another process past the busy timeout, reads print no data and writes are not applied")
    func lockHeldElsewhere() async throws {
        let (_, cli, admin, _, _, id) = try Self.setUp()
        let path = cli.environment["CVAULT_VAULT"]!
        let before = try Self.state(path)
        // Another process takes the write lock and keeps it until its standard input closes.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            sys.stdin.read()
            c.execute("ROLLBACK")
            """, path]
        let input = Pipe(), output = Pipe()
        holder.standardInput = input
        holder.standardOutput = output
        try holder.run()
        #expect(String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("locked"))
        let fast = ["CVAULT_BUSY_TIMEOUT": "0.3"]
        for command in [["customer", "get", id], ["customer", "find", "--email", Self.canary["email"]!], ["customer", "list"],
                        ["export", "customers"], ["customer", "add", "--name", "New Person", "--email", "new@example.com"],
                        ["customer", "update", id, "--name", "Other Name"], ["customer", "delete", id]] {
            let result = try cli.run(command + admin, extraEnvironment: fast)
            #expect(result.status != 0, "\(command) succeeded while the log could not be written")
            #expect(!Self.fragments.contains { result.output.contains($0) }, "\(command) printed personal data")
            #expect(result.stdout.isEmpty || command[0] == "export" && !result.stdout.contains("@"), "\(command): \(result.stdout)")
            #expect(result.stderr.contains("locked") || result.stderr.contains("busy"), "\(command): \(result.stderr)")
        }
        try input.fileHandleForWriting.close()
        holder.waitUntilExit()
        #expect(try Self.state(path) == before)
        #expect(try cli.run(["customer", "get", id] + admin).status == 0, "works again once the lock is gone")
    }

    static let canDropPrivileges = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    @Test("on a database file the user cannot write, reads print no data and writes are not applied",
          .enabled(if: canDropPrivileges, "needs root and setpriv to run cvault as an unprivileged user"))
    func readOnlyFile() throws {
        let (workspace, cli, _, _, _, id) = try Self.setUp()
        let path = cli.environment["CVAULT_VAULT"]!
        let keyCopy = workspace.path("nobody-admin.key")
        try FileManager.default.copyItem(atPath: workspace.path("admin.key"), toPath: keyCopy)
        // The key is readable by the unprivileged user; the vault and its directory are not writable by it.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyCopy)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: workspace.url.path)
        let before = try Self.state(path)
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary]
        var environment = cli.environment
        environment["CVAULT_KEY_FILE"] = keyCopy
        for command in [["customer", "get", id], ["customer", "list"], ["customer", "add", "--name", "New Person", "--email", "n@example.com"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = asNobody + command
            process.environment = environment
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            process.waitUntilExit()
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus != 0, "\(command) succeeded without a writable access log")
            #expect(stdout.isEmpty, "\(command): \(stdout)")
            #expect(!Self.fragments.contains { stderr.contains($0) })
        }
        #expect(try Self.state(path) == before)
    }
}
