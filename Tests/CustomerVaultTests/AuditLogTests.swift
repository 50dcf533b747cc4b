import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

/// The access log is tamper-evident to anyone holding the vault file: every kind of edit is found
/// by `verifyAuditLog`, which names the first bad entry.
@Suite("Audit log verification", .serialized)
struct AuditLogTests {
    /// A vault whose log holds at least 1,000 entries of varied kinds, checkpointed into the main file.
    static func longLog(in directory: TemporaryDirectory) async throws -> (path: String, entries: Int64, checkpoint: AuditCheckpoint) {
        let fixture = try await RoleFixture.make()
        let path = directory.path("log.vault")
        let admin = fixture.admin
        var ids: [Int64] = []
        for n in 0..<150 { ids.append(try await admin.addCustomer(Fixtures.customer(2_000 + n))) }
        let support = try await fixture.open("support", purpose: "support_ticket")
        for id in ids { _ = try await admin.customer(id) }
        for n in 0..<150 { _ = try await support.findCustomers(field: "email", equalTo: "person\(2_000 + n)@example.com") }
        for id in ids { _ = await VaultError.caught { _ = try await fixture.open("analyst").customer(id) } }
        for id in ids.prefix(100) { try await support.updateCustomer(id, set: ["phone": "+44 20 7946 1111"]) }
        for _ in 0..<60 { _ = try await admin.listCustomers(limit: 20) }
        while try await admin.auditLog(limit: 1).isEmpty == false, try Self.count(fixture.path) < 1_010 {
            _ = try await admin.customer(ids[0])
        }
        let checkpoint = try await admin.auditHead()
        try await admin.checkpoint()
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        return (path, try Self.count(path), checkpoint)
    }

    static func count(_ path: String) throws -> Int64 {
        Int64(try VaultFileInspector(path).count("audit_log"))
    }

    /// Applies `tamper` to a fresh copy and returns the verification error.
    static func verifyTampered(_ original: String, in directory: TemporaryDirectory, expect checkpoint: String? = nil,
                               _ tamper: (VaultFileInspector) throws -> Void) async throws -> VaultError? {
        let copy = directory.path("copy-\(UUID().uuidString).vault")
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) } }
        try tamper(try VaultFileInspector(copy))
        return await VaultError.caught { _ = try await CustomerVault.verifyAuditLog(at: copy, expect: checkpoint) }
    }

    @Test("an untouched log of 1,000+ entries verifies, with and without its checkpoint")
    func intact() async throws {
        let directory = try TemporaryDirectory()
        let (path, entries, checkpoint) = try await Self.longLog(in: directory)
        #expect(entries >= 1_000)
        let result = try await CustomerVault.verifyAuditLog(at: path, expect: checkpoint.description)
        #expect(result.entries == entries && result.checkpointMatched == true)
        #expect(result.headSeq == entries)
    }

    static let columns = ["at", "principal", "role", "action", "purpose", "reason", "target", "fields", "outcome", "error_code",
                          "detail", "policy_hash", "terms", "prev_hash", "hash", "signature", "format"]

    @Test("every kind of tampering is detected and the first bad entry is named: modify each column, delete, insert, reorder, cut")
    func tampering() async throws {
        let directory = try TemporaryDirectory()
        let (path, entries, checkpoint) = try await Self.longLog(in: directory)
        var generator = SystemRandomNumberGenerator()
        var trials = 0, detected = 0
        func check(_ error: VaultError?, seq: Int64, _ what: String) {
            trials += 1
            if error?.code == .integrity && error?.message.contains("entry \(seq)") == true { detected += 1 } else {
                Issue.record("\(what) at entry \(seq): \(error?.message ?? "not detected")")
            }
        }
        // Modify any column of an entry (text columns get a changed value, blobs a flipped byte).
        for column in Self.columns {
            for _ in 0..<4 {
                let seq = Int64.random(in: 2...entries, using: &generator)
                let error = try await Self.verifyTampered(path, in: directory) { file in try file.tamperAuditEntry(seq, column: column) }
                check(error, seq: seq, "modified \(column)")
            }
        }
        // Delete an entry.
        for _ in 0..<20 {
            let seq = Int64.random(in: 1..<entries, using: &generator)
            check(try await Self.verifyTampered(path, in: directory) { file in
                try #require(try file.delete(from: "audit_log", where: ["seq": .is(seq)]) == 1)
            }, seq: seq, "deleted")
        }
        // Insert a forged entry: in the middle (later entries renumbered) or after the end, with a
        // correct chain and hash but a signature by a key that is not the principal's.
        for position in [Int64.random(in: 2..<entries, using: &generator), Int64.random(in: 2..<entries, using: &generator), entries + 1] {
            let forger = try Ed25519.KeyPair.generate()
            check(try await Self.verifyTampered(path, in: directory) { file in
                try file.shiftAuditEntries(from: position)
                let previous = try #require(try file.value("hash", in: "audit_log", where: ["seq": .is(position - 1)])?.data)
                let entry = AuditEntry(at: "2026-01-01T00:00:00Z", principal: "admin", role: "admin", action: "customer.read",
                                       purpose: nil, target: "customers:1", fields: [], outcome: .allowed, detail: "forged")
                let hash = try AuditChain.entryHash(format: 2, seq: position, entry: entry, signerPublicKey: forger.publicKey,
                                                    previousHash: [UInt8](previous))
                try file.insert(into: "audit_log", [
                    "seq": position, "format": 2, "at": entry.at, "principal": "admin", "role": "admin", "action": "customer.read",
                    "target": "customers:1", "fields": "", "outcome": "allowed", "detail": "forged", "prev_hash": previous,
                    "hash": hash, "signature": try Ed25519.sign(hash, with: forger),
                ])
            }, seq: position, "inserted")
        }
        // Reorder two neighbouring entries (swap everything but the sequence numbers).
        for _ in 0..<10 {
            let seq = Int64.random(in: 1..<entries, using: &generator)
            check(try await Self.verifyTampered(path, in: directory) { file in try file.swapAuditEntries(seq) }, seq: seq, "reordered")
        }
        // Cut the tail back past the checkpoint: found with the checkpoint.
        for keep in [checkpoint.seq - 1, checkpoint.seq - 5, checkpoint.seq - 300] {
            let error = try await Self.verifyTampered(path, in: directory, expect: checkpoint.description) { file in
                try file.delete(from: "audit_log", where: ["seq": .above(keep)])
            }
            check(error, seq: checkpoint.seq, "cut to \(keep)")
        }
        #expect(trials >= 100)
        #expect(detected == trials)

        // What a checkpoint cannot see (SECURITY.md): entries after it, cut cleanly.
        let afterCheckpoint = try await Self.verifyTampered(path, in: directory, expect: checkpoint.description) { file in
            try file.delete(from: "audit_log", where: ["seq": .above(checkpoint.seq)])
        }
        #expect(afterCheckpoint == nil)
        #expect(entries > checkpoint.seq, "auditHead's own entry follows the checkpoint")
    }

    @Test("without a checkpoint a clean cut of the tail is not detectable")
    func cutWithoutCheckpoint() async throws {
        let directory = try TemporaryDirectory()
        let (path, entries, _) = try await Self.longLog(in: directory)
        let error = try await Self.verifyTampered(path, in: directory) { file in
            try file.delete(from: "audit_log", where: ["seq": .above(entries - 10)])
        }
        #expect(error == nil, "documented: only a checkpoint kept elsewhere reveals a cut tail")
    }

    @Test("a rewritten log that re-chains everything under new principal keys still fails against a checkpoint")
    func rewrittenLogFailsCheckpoint() async throws {
        let directory = try TemporaryDirectory()
        let (path, _, checkpoint) = try await Self.longLog(in: directory)
        let error = try await Self.verifyTampered(path, in: directory, expect: checkpoint.description) { file in
            let detail = try #require(try file.value("detail", in: "audit_log", where: ["seq": .is(checkpoint.seq)])?.text)
            try #require(try file.update("audit_log", set: ["detail": detail + "."], where: ["seq": .is(checkpoint.seq)]) == 1)
        }
        #expect(error?.code == .integrity)
        #expect(error?.message.contains("entry \(checkpoint.seq)") == true)
    }

    @Test("credential changes, policy changes and disabled principals keep the log verifiable")
    func verifiableAfterChanges() async throws {
        let fixture = try await RoleFixture.make()
        let auditor = try await fixture.open("auditor")
        try await auditor.changeCredential(to: try Credential.passphrase("auditor's new passphrase"))
        _ = try await fixture.admin.applyPolicy(yaml: Policy.defaultYAML + "\n  extra: { description: new role }\n", fileName: "p.yaml")
        try await fixture.admin.disablePrincipal("analyst")
        let result = try await CustomerVault.verifyAuditLog(at: fixture.path)
        #expect(result.entries > 10)
    }

    @Test("audit log filters by principal, customer (bulk reads included), action and time, and pages")
    func filters() async throws {
        let fixture = try await RoleFixture.make()
        let support = try await fixture.open("support", purpose: "support_ticket")
        _ = try await support.listCustomers()
        _ = try await support.customer(fixture.euID)
        let auditor = try await fixture.open("auditor")
        let all = try await auditor.auditLog(limit: 10_000)
        let bySupport = try await auditor.auditLog(filter: AuditFilter(principal: "support"))
        #expect(bySupport.map(\.action) == ["customer.list", "customer.read"])
        let aboutEU = try await auditor.auditLog(filter: AuditFilter(customer: fixture.euID), limit: 10_000)
        #expect(aboutEU.contains { $0.action == "customer.list" }, "a list that included the customer is found by its id")
        #expect(aboutEU.allSatisfy { AuditChain.target($0.target, names: fixture.euID) })
        let aboutUK = try await auditor.auditLog(filter: AuditFilter(principal: "support", customer: fixture.ukID))
        #expect(aboutUK.isEmpty, "support never saw the UK customer")
        let creates = try await auditor.auditLog(filter: AuditFilter(action: "customer.create"))
        #expect(creates.count == 2)
        let future = try await auditor.auditLog(filter: AuditFilter(since: "2999-01-01T00:00:00Z"))
        #expect(future.isEmpty)
        let upToNow = try await auditor.auditLog(filter: AuditFilter(until: "2999-01-01T00:00:00Z"), limit: 10_000)
        #expect(upToNow.count >= all.count)
        let page = try await auditor.auditLog(after: 3, limit: 2)
        #expect(page.map(\.seq) == [4, 5])
        #expect(AuditChain.bulkTarget(entity: .customers, ids: [5, 1, 2, 3, 9, 10]) == "customers:1-3,5,9-10")
    }

    @Test("entries record purpose, reason, fields with their view, error code, policy hash and keyed search terms, no values")
    func entryContents() async throws {
        let fixture = try await RoleFixture.make()
        let support = try await fixture.open("support").withPurpose("support_ticket", reason: "ticket 4711")
        _ = try await support.findCustomers(field: "email", equalTo: RoleFixture.canary["email"]!)
        _ = await VaultError.caught { _ = try await fixture.open("analyst").customer(fixture.euID) }
        let log = try await fixture.admin.auditLog(limit: 10_000)
        let search = try #require(log.last { $0.action == "customer.search" })
        #expect(search.purpose == "support_ticket" && search.reason == "ticket 4711")
        #expect(search.fields.contains("customers.email:search") && search.fields.contains("customers.address:masked"))
        #expect(search.fields.contains("customers.name:plain") && !search.fields.contains("birth_date"))
        #expect(search.target == "customers:\(fixture.euID)")
        #expect(search.policyHash == AuditChain.policyHash(Policy.defaultYAML))
        let auditor = try await fixture.open("auditor")
        let digest = try await auditor.auditTermDigest(field: "email", value: "  QZCANARY.wexford@example.com ").first
        #expect(search.terms == digest, "an auditor can confirm what was searched for")
        let denied = try #require(log.last { $0.principal == "analyst" })
        #expect(denied.outcome == "denied" && denied.errorCode == "accessDenied")
        let text = try VaultFileInspector(fixture.path).auditLogText()
        #expect(!RoleFixture.canaryFragments.contains { text.contains($0) })
    }
}

/// Fail closed: when the access-log entry cannot be written, reads return no personal data and
/// writes are not applied.
@Suite("Audit fault injection", .serialized)
struct AuditFaultTests {
    static func attempts(_ vault: CustomerVault, id: Int64, directory: TemporaryDirectory) -> [(String, () async throws -> Void)] {
        [
            ("get", { _ = try await vault.customer(id) }),
            ("search", { _ = try await vault.findCustomers(field: "email", equalTo: RoleFixture.canary["email"]!) }),
            ("list", { _ = try await vault.listCustomers() }),
            ("export", { _ = try await vault.exportCustomers(format: .jsonl) { data in
                Issue.record("export wrote \(data.count) bytes although its log entry failed") } }),
            ("history", { _ = try await vault.history(.interactions, customerID: id) }),
            ("add", { _ = try await vault.addCustomer(Fixtures.customer(4_242)) }),
            ("update", { try await vault.updateCustomer(id, set: ["name": "Changed Name"]) }),
            ("delete", { try await vault.deleteCustomer(id) }),
            ("import", { _ = try await vault.importCSV(.customers, from: try directory.write("f.csv", "name,email\nIm Ported,im@example.com\n")) }),
        ]
    }

    static func state(_ path: String) throws -> [String] {
        try VaultFileInspector(path).contentFingerprint()
    }

    @Test("an access-log insert that fails (injected by a trigger) makes every read and write fail, returning and applying nothing")
    func failingInsert() async throws {
        let fixture = try await RoleFixture.make()
        let before = try Self.state(fixture.path)
        try VaultFileInspector(fixture.path).plant(.failAccessLogInserts)
        for (name, attempt) in Self.attempts(fixture.admin, id: fixture.euID, directory: fixture.directory) {
            let error = await VaultError.caught(attempt)
            #expect(error != nil, "\(name) succeeded without its log entry")
            #expect(error.map { !RoleFixture.canaryFragments.contains(where: $0.message.contains) } ?? true)
        }
        #expect(try Self.state(fixture.path) == before, "no write was applied")
    }

    @Test("with the write lock taken by another process after unlocking, reads return nothing and writes are not applied")
    func lockTakenAfterOpen() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("locked.vault")
        let key = try SecretBytes(randomCount: 32)
        _ = try await CustomerVault.create(at: path, schema: Fixtures.schema(), administrator: "admin", credential: .keyFile(key))
        // The busy timeout is read when the pool opens; keep the override to this open only.
        setenv("CVAULT_BUSY_TIMEOUT", "0.3", 1)
        let vault = try await CustomerVault.open(at: path, principal: "admin", credential: .keyFile(key))
        unsetenv("CVAULT_BUSY_TIMEOUT")
        let id = try await vault.addCustomer(RoleFixture.canary)
        let before = try Self.state(path)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked', flush=True)\nsys.stdin.read()", path]
        let input = Pipe(), output = Pipe()
        holder.standardInput = input
        holder.standardOutput = output
        try holder.run()
        #expect(String(decoding: output.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("locked"))
        for (name, attempt) in Self.attempts(vault, id: id, directory: directory) {
            let error = await VaultError.caught(attempt)
            #expect(error?.code == .io, "\(name): \(error?.message ?? "succeeded while the log was locked")")
            #expect(error?.message.contains("write lock") == true, "\(name): \(error?.message ?? "")")
        }
        try input.fileHandleForWriting.close()
        holder.waitUntilExit()
        #expect(try Self.state(path) == before)
        #expect(try await vault.customer(id).fields["email"] == RoleFixture.canaryStored["email"], "works again once the lock is gone")
    }

    /// Runs `body` with a tmpfs mounted at a fresh directory; skips (returns false) where mounting is not permitted.
    static func withTmpfs(size: String, _ body: (String) async throws -> Void) async throws -> Bool {
        let directory = try TemporaryDirectory()
        let mountPoint = directory.path("fs")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint]) == 0 else { return false }
        defer { _ = run("/bin/umount", ["-l", mountPoint]) }
        try await body(mountPoint)
        return true
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    static let canMount = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/mount")

    @Test("on a full file system, reads return no personal data and writes are not applied",
          .enabled(if: canMount, "needs root to mount a tmpfs"))
    func fullFileSystem() async throws {
        let mounted = try await Self.withTmpfs(size: "8m") { mountPoint in
            let path = mountPoint + "/full.vault"
            let key = try SecretBytes(randomCount: 32)
            let vault = try await CustomerVault.create(at: path, schema: Fixtures.schema(), administrator: "admin", credential: .keyFile(key))
            let id = try await vault.addCustomer(RoleFixture.canary)
            try await vault.checkpoint()   // empties the WAL, so the next entry needs new space
            let before = try Self.state(path)
            // Fill every free block.
            let filler = FileHandle(forWritingAtPath: { _ = FileManager.default.createFile(atPath: mountPoint + "/filler", contents: nil); return mountPoint + "/filler" }())!
            let chunk = Data(count: 64 * 1024)
            while (try? filler.write(contentsOf: chunk)) != nil {}
            try? filler.close()
            for (name, attempt) in Self.attempts(vault, id: id, directory: try TemporaryDirectory()) {
                let error = await VaultError.caught(attempt)
                #expect(error?.code == .io, "\(name): \(error?.message ?? "succeeded on a full file system")")
            }
            try FileManager.default.removeItem(atPath: mountPoint + "/filler")
            #expect(try Self.state(path) == before)
            try vault.close()
        }
        #expect(mounted)
    }
}
