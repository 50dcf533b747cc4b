import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

@Suite("Encrypted backups", .serialized)
struct BackupTests {
    /// Small chunks, so a small vault makes a backup of many chunks to cut, swap and splice.
    static let chunk = 4_096

    /// Every table of a vault file, rows as text, sorted: what "identical" means for a restore.
    /// The access log is compared up to `auditThrough` (a restore appends its own entry).
    static func dump(_ path: String, auditThrough: Int64? = nil) throws -> [String: [String]] {
        let file = try VaultFileInspector(path)
        defer { try? file.close() }
        return try file.dump(auditThrough: auditThrough)
    }

    static func auditCount(_ path: String) throws -> Int64 {
        try VaultFileInspector(path).largest("seq", in: "audit_log") ?? 0
    }

    /// A vault with `customers` made-up customers, its backup (small chunks) and the admin's key.
    static func backedUp(customers: Int = 40) async throws -> (RoleFixture, file: String, key: BackupKey) {
        let fixture = try await RoleFixture.make()
        for n in 0..<customers { _ = try await fixture.admin.addCustomer(Fixtures.customer(7_000 + n)) }
        let file = fixture.directory.path("vault.cvbackup")
        _ = try await fixture.admin.createBackup(to: file, chunkSize: chunk, progress: nil)
        return (fixture, file, try await fixture.admin.backupKey(for: file))
    }

    /// Chunk records of a backup file: (offset of the length prefix, total length with prefix).
    static func chunks(_ bytes: [UInt8]) -> [(offset: Int, length: Int)] {
        var offset = BackupFormat.headerLength
        var out: [(Int, Int)] = []
        while offset + 4 <= bytes.count {
            let length = Int(bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) })
            out.append((offset, 4 + length))
            offset += 4 + length
        }
        return out
    }

    static func header(_ bytes: [UInt8]) -> [UInt8] { Array(bytes[0..<BackupFormat.headerLength]) }

    /// The header with byte `index` changed and a correct checksum: what a forger would write.
    static func forgedHeader(_ bytes: [UInt8], flipping index: Int) throws -> [UInt8] {
        var header = header(bytes)
        header[index] ^= 0x01
        let covered = Array(header[0..<(BackupFormat.prefixLength + BackupFormat.bodyLength)])
        return covered + (try BLAKE2b.hash(covered, outputLength: BackupFormat.checksumLength))
    }

    @Test("a named set of broken backups: every one refused with the expected error, and restore writes nothing")
    func brokenBackups() async throws {
        let (fixture, file, key) = try await Self.backedUp()
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        let records = Self.chunks(good)
        try #require(records.count >= 6, "the test needs a backup of several chunks")
        let header = Self.header(good)
        func chunk(_ i: Int) -> [UInt8] { Array(good[records[i].offset..<records[i].offset + records[i].length]) }
        let body = Array(good[BackupFormat.headerLength...])
        let last = records.count - 1

        // A second backup of the same vault (same key) and a backup of another vault.
        let other = fixture.directory.path("other.cvbackup")
        _ = try await fixture.admin.createBackup(to: other, chunkSize: Self.chunk, progress: nil)
        let otherBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: other)))
        let otherRecords = Self.chunks(otherBytes)
        let foreignDirectory = try TemporaryDirectory()
        let foreignVault = try await CustomerVault.create(at: foreignDirectory.path("foreign.vault"), schema: Fixtures.schema(),
                                                          administrator: "admin", credential: .keyFile(SecretBytes(randomCount: 32)))
        _ = try await foreignVault.addCustomer(Fixtures.customer(1))
        let foreignFile = foreignDirectory.path("foreign.cvbackup")
        _ = try await foreignVault.createBackup(to: foreignFile, chunkSize: Self.chunk, progress: nil)
        let foreignBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: foreignFile)))

        var cases: [(name: String, bytes: [UInt8], key: BackupKey, expected: VaultError.Code)] = []
        func add(_ name: String, _ bytes: [UInt8], key chosen: BackupKey? = nil, _ expected: VaultError.Code = .integrity) {
            cases.append((name, bytes, chosen ?? key, expected))
        }
        add("empty file", [])
        add("not a backup (other magic)", Array("SQLite format 3\0".utf8) + body)
        add("header cut inside the prefix", Array(good[0..<10]))
        add("header cut inside the body", Array(good[0..<60]))
        add("header cut before the checksum", Array(good[0..<(BackupFormat.prefixLength + BackupFormat.bodyLength + 5)]))
        add("vault id byte flipped", { var b = good; b[BackupFormat.prefixLength] ^= 0x40; return b }())
        add("sealed file key byte flipped", { var b = good; b[BackupFormat.prefixLength + 60] ^= 0x01; return b }())
        add("checksum byte flipped", { var b = good; b[BackupFormat.headerLength - 1] ^= 0x80; return b }())
        add("creation time forged (checksum recomputed)", try Self.forgedHeader(good, flipping: BackupFormat.prefixLength + 20) + body)
        add("sealed file key forged (checksum recomputed)", try Self.forgedHeader(good, flipping: BackupFormat.prefixLength + 70) + body)
        add("stream header forged (checksum recomputed)", try Self.forgedHeader(good, flipping: BackupFormat.headerLength - 40) + body)
        func withVersion(_ version: UInt8) throws -> [UInt8] {
            var bytes = header
            bytes[9] = version
            let covered = Array(bytes[0..<(BackupFormat.prefixLength + BackupFormat.bodyLength)])
            return covered + (try BLAKE2b.hash(covered, outputLength: BackupFormat.checksumLength)) + body
        }
        add("future format version", try withVersion(2), .unsupported)
        add("format version 0", try withVersion(0))
        add("header length changed", { var b = good; b[11] ^= 0x01; return b }())
        add("header only, no chunk", header)
        add("no final chunk", Array(good[0..<records[last].offset]))
        for cut in 1..<min(records.count, 6) {
            add("cut at chunk boundary \(cut)", Array(good[0..<records[cut].offset]))
        }
        add("cut in the middle of chunk 2", Array(good[0..<(records[1].offset + records[1].length / 2)]))
        add("cut inside a length prefix", Array(good[0..<(records[2].offset + 2)]))
        add("cut one byte short", Array(good.dropLast()))
        add("two final chunks", good + chunk(last))
        add("empty last chunk appended", good + [0, 0, 0, 0])
        add("last chunk replaced by an empty one", Array(good[0..<records[last].offset]) + [0, 0, 0, 0])
        add("trailing garbage, 1 byte", good + [0x00])
        add("trailing garbage, 64 KiB", good + [UInt8](repeating: 0xA5, count: 65_536))
        add("chunks 2 and 3 swapped", header + chunk(0) + chunk(2) + chunk(1) + Array(good[records[3].offset...]))
        add("chunk 2 duplicated", Array(good[0..<records[2].offset]) + chunk(1) + Array(good[records[2].offset...]))
        add("chunk 2 dropped", Array(good[0..<records[1].offset]) + Array(good[records[2].offset...]))
        add("chunk 2 spliced from another backup of the same vault",
            Array(good[0..<records[1].offset]) + Array(otherBytes[otherRecords[1].offset..<otherRecords[1].offset + otherRecords[1].length])
                + Array(good[records[2].offset...]))
        add("header of another backup of the same vault", Self.header(otherBytes) + body)
        add("header and first chunk of another backup", Array(otherBytes[0..<otherRecords[1].offset]) + Array(good[records[1].offset...]))
        add("chunk length set to 4 GiB", { var b = good; b.replaceSubrange(records[1].offset..<records[1].offset + 4, with: [0xFF, 0xFF, 0xFF, 0xF0]); return b }())
        add("chunk length below the minimum", { var b = good; b.replaceSubrange(records[1].offset..<records[1].offset + 4, with: [0, 0, 0, 5]); return b }())
        add("byte of chunk 1 flipped", { var b = good; b[records[0].offset + 40] ^= 0x04; return b }())
        add("tag of the last chunk flipped", { var b = good; b[b.count - 1] ^= 0x01; return b }())
        add("wrong key (same vault id, other key)", good, key: try BackupKey(vaultID: key.vaultID, version: 1, key: SecretBytes(randomCount: 32)), .badCredential)
        add("backup of another vault", foreignBytes, .badCredential)

        #expect(cases.count >= 28)
        var refused = 0
        for (index, test) in cases.enumerated() {
            let path = fixture.directory.path("broken-\(index).cvbackup")
            try Data(test.bytes).write(to: URL(fileURLWithPath: path))
            let error = await VaultError.caught { _ = try CustomerVault.verifyBackup(path, key: test.key) }
            #expect(error?.code == test.expected, "\(test.name): \(error?.message ?? "accepted")")
            if error?.code == test.expected { refused += 1 }
            // Restore refuses the same way and leaves nothing behind.
            let target = fixture.directory.path("restored-\(index).vault")
            let restoreError = await VaultError.caught {
                _ = try await CustomerVault.restoreBackup(path, to: target, key: test.key, principal: "admin", credential: .keyFile(SecretBytes(randomCount: 32)))
            }
            #expect(restoreError?.code == test.expected, "restore of \(test.name): \(restoreError?.message ?? "accepted")")
            let left = try FileManager.default.contentsOfDirectory(atPath: fixture.directory.path("")).filter { $0.hasPrefix("restored-\(index).vault") }
            #expect(left.isEmpty, "restore of \(test.name) left \(left)")
        }
        #expect(refused == cases.count)
        // The untouched file still verifies, so the refusals are about the damage.
        #expect(try CustomerVault.verifyBackup(file, key: key).chunks == records.count)
    }

    @Test("1,000 random bit flips and truncations are all detected; 1,000 clean backups all verify")
    func randomDamage() async throws {
        let (fixture, file, key) = try await Self.backedUp(customers: 10)
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        var generator = SystemRandomNumberGenerator()
        var detected = 0
        let path = fixture.directory.path("damaged.cvbackup")
        for trial in 0..<1_000 {
            var bytes = good
            if trial % 2 == 0 {
                let bit = Int.random(in: 0..<(bytes.count * 8), using: &generator)
                bytes[bit / 8] ^= UInt8(1 << (bit % 8))
            } else {
                bytes = Array(bytes[0..<Int.random(in: 0..<bytes.count, using: &generator)])
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            if await VaultError.caught({ _ = try CustomerVault.verifyBackup(path, key: key) }) != nil { detected += 1 }
        }
        #expect(detected == 1_000)

        // 1,000 clean backups of the same snapshot, each with its own file key and nonces.
        let snapshot = fixture.directory.path("snapshot.db")
        try OutputFile(creating: snapshot).syncAndClose()
        try fixture.admin.liveFile.snapshot(to: snapshot)
        let recipient = try CustomerVault.backupRecipient(fixture.admin.keyring, vaultID: fixture.admin.vaultIDBytes)
        var falseAlarms = 0
        for trial in 0..<1_000 {
            let clean = fixture.directory.path("clean-\(trial).cvbackup")
            _ = try BackupStream.write(snapshot: snapshot, to: clean, recipient: recipient, createdAt: Date(), chunkSize: Self.chunk, progress: nil)
            if await VaultError.caught({ _ = try CustomerVault.verifyBackup(clean, key: key) }) != nil { falseAlarms += 1 }
            try FileManager.default.removeItem(atPath: clean)
        }
        #expect(falseAlarms == 0)
    }

    /// Backs up, restores to a new path, and checks every table is identical and the restored
    /// vault opens with the principals' existing credentials.
    static func roundTrip(_ fixture: RoleFixture, chunkSize: Int = chunk) async throws {
        try await roundTrip(admin: fixture.admin, adminKey: try Credential.keyFile(at: fixture.adminKeyFile()), directory: fixture.directory,
                            chunkSize: chunkSize)
        let target = fixture.directory.path("restored.vault")
        let support = try await CustomerVault.open(at: target, principal: "support", credential: .keyFile(SecretBytes(copying: [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.writeKeyFile("support")))))))
        defer { try? support.close() }
        _ = try await support.withPurpose("support_ticket").findCustomers(field: "email", equalTo: RoleFixture.canary["email"]!)
    }

    static func roundTrip(admin: CustomerVault, adminKey: Credential, directory: TemporaryDirectory, chunkSize: Int = chunk) async throws {
        let fixture = (admin: admin, path: admin.path, directory: directory)
        let file = fixture.directory.path("round.cvbackup")
        try? FileManager.default.removeItem(atPath: file)
        _ = try await fixture.admin.createBackup(to: file, chunkSize: chunkSize, progress: nil)
        let target = fixture.directory.path("restored.vault")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: target + suffix) }
        let key = try await fixture.admin.backupKey(for: file)
        let report = try await CustomerVault.restoreBackup(file, to: target, key: key, principal: "admin", credential: adminKey)
        let restoredEntries = try auditCount(target)
        #expect(report.auditEntries == restoredEntries)
        // The snapshot holds everything up to and including "backup started"; the restore adds one entry.
        let source = try dump(fixture.path, auditThrough: restoredEntries - 1)
        let restored = try dump(target, auditThrough: restoredEntries - 1)
        #expect(source.keys.sorted() == restored.keys.sorted())
        for table in source.keys.sorted() {
            #expect(source[table] == restored[table], "table \(table) differs after restore")
        }
        let log = try await CustomerVault.verifyAuditLog(at: target)
        #expect(log.entries == restoredEntries)
        // Principals open with their existing credentials and read what they read before.
        let reopened = try await CustomerVault.open(at: target, principal: "admin", credential: adminKey)
        defer { try? reopened.close() }
        let before = try await fixture.admin.listCustomers(limit: 10_000)
        let after = try await reopened.listCustomers(limit: 10_000)
        #expect(before.map(\.fields) == after.map(\.fields))
    }

    @Test("round trips are identical: an empty vault, one record, principals of every role, Unicode-heavy values, a vault mid-rotation")
    func roundTrips() async throws {
        // An empty vault (no customer at all), then the same vault with one record.
        let directory = try TemporaryDirectory()
        let adminKey = try SecretBytes(randomCount: 32)
        let empty = try await CustomerVault.create(at: directory.path("empty.vault"), schema: Fixtures.schema(), administrator: "admin",
                                                   credential: .keyFile(adminKey))
        try await Self.roundTrip(admin: empty, adminKey: .keyFile(adminKey), directory: directory)
        _ = try await empty.addCustomer(Fixtures.customer(1))
        try await Self.roundTrip(admin: empty, adminKey: .keyFile(adminKey), directory: directory)

        // A principal of every shipped role, canaries, history.
        try await Self.roundTrip(try await RoleFixture.make())

        // Unicode-heavy values in every script we could think of.
        let unicode = try await RoleFixture.make()
        let names = ["Zoë Ångström-Ørsted", "李小龍", "Ελένη Παπαδοπούλου", "محمد عبد الله", "Đặng Thị Ngọc", "Влади́мир Набо́ков", "👩🏽‍💻 Dev Ops"]
        for (n, name) in names.enumerated() {
            var values = Fixtures.customer(8_000 + n)
            values["name"] = name
            values["address"] = "\(name) straße 7, Ünïcödé ☃ \u{1F600}"
            _ = try await unicode.admin.addCustomer(values)
        }
        try await Self.roundTrip(unicode, chunkSize: 1_000)

        // Mid-rotation: the rotation's task is cancelled after some values moved.
        let rotating = try await RoleFixture.make()
        for n in 0..<60 { _ = try await rotating.admin.addCustomer(Fixtures.customer(9_100 + n)) }
        try await Self.interruptedRotation(rotating.admin, after: 100)
        #expect(try await rotating.admin.keyStatus().rotationInProgress != nil)
        try await Self.roundTrip(rotating)
        // The restored vault finishes the rotation it was in.
        let restored = try await CustomerVault.open(at: rotating.directory.path("restored.vault"), principal: "admin",
                                                    credential: try Credential.keyFile(at: rotating.adminKeyFile()))
        defer { try? restored.close() }
        _ = try await restored.rotateKeys(resume: true)
        #expect(try await restored.keyStatus().rotationInProgress == nil)
        #expect(try await restored.listCustomers(limit: 1_000).count == 62)
    }

    /// Starts a rotation of every field in batches of 20 values and cancels it once `values` moved.
    static func interruptedRotation(_ admin: CustomerVault, after values: Int) async throws {
        let task = Mutex<Task<RotationReport, any Error>?>(nil)
        let rotation = Task {
            try await admin.rotateKeys(batchSize: 20) { progress in
                if progress.done >= values { task.withLock { $0?.cancel() } }
            }
        }
        task.withLock { $0 = rotation }
        _ = try? await rotation.value
    }

    @Test("a principal allowed only vault.backup makes a backup it cannot open, with the library or with any key it holds")
    func operatorCannotOpen() async throws {
        let fixture = try await RoleFixture.make()
        let operatorKey = try SecretBytes(randomCount: 32)
        _ = try await fixture.admin.addPrincipal("nightly", role: "backup_operator", credential: .keyFile(operatorKey))
        let nightly = try await CustomerVault.open(at: fixture.path, principal: "nightly", credential: .keyFile(operatorKey))
        defer { try? nightly.close() }
        let file = fixture.directory.path("nightly.cvbackup")
        let report = try await nightly.createBackup(to: file, progress: nil)
        #expect(report.chunks >= 1)
        // The library refuses to open it for the operator…
        #expect(await VaultError.caught { _ = try await nightly.backupKey(for: file) }?.code == .accessDenied)
        #expect(await VaultError.caught { _ = try await nightly.verifyBackup(file) }?.code == .accessDenied)
        #expect(await VaultError.caught { try await nightly.exportBackupKey(to: fixture.directory.path("stolen.key")) }?.code == .accessDenied)
        // …and no key it holds opens the sealed file key, used raw or as a derived key pair.
        let input = try BackupInput(path: file)
        let header = try BackupFormat.readHeader(input).0
        var attempts = 0
        var opened = 0
        for scope in nightly.keyring.scopes {
            guard let key = nightly.keyring.key(scope) else { continue }
            var pairs = [try WriteKeyPair.derive(from: key)]
            if key.count == 32 { pairs.append(try SealedBox.KeyPair(secretKey: key)) }
            for pair in pairs {
                attempts += 1
                if (try? SealedBox.open(header.sealedFileKey, with: pair)) != nil { opened += 1 }
            }
        }
        #expect(attempts > 0 && opened == 0)
        #expect(nightly.keyring.scopes.contains { $0.purpose == .backupPublic })
        #expect(!nightly.keyring.scopes.contains { $0.purpose == .backup })
        // The administrator opens it, and every step is in the access log.
        #expect(try await fixture.admin.verifyBackup(file).chunks == report.chunks)
        let actions = try await fixture.admin.auditLog(filter: AuditFilter(), after: 0, limit: 10_000).map { "\($0.principal):\($0.action):\($0.outcome)" }
        #expect(actions.filter { $0 == "nightly:vault.backup:allowed" }.count == 2)  // started, written
        #expect(actions.contains("nightly:vault.restore:denied"))
        #expect(actions.contains("admin:vault.restore:allowed"))
    }

    @Test("a passphrase principal restores with its passphrase (derived beside the checks); a wrong one, a key file or an unknown name restores nothing")
    func restoreAsPassphrasePrincipal() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        for index in 0..<3 { _ = try await vault.addCustomer(Fixtures.customer(7_000 + index)) }
        let file = directory.path("p.cvbackup")
        _ = try await vault.createBackup(to: file)
        let key = try await vault.backupKey(for: file)
        try vault.close()
        let target = directory.path("restored.vault")
        let refusals: [(String, Credential, VaultError.Code)] = [
            ("admin", try Credential.passphrase("not the passphrase"), .badCredential),
            ("admin", .keyFile(try SecretBytes(randomCount: 32)), .badCredential),
            ("nobody", try Fixtures.credential(), .notFound),
        ]
        for (principal, credential, expected) in refusals {
            #expect(await VaultError.caught {
                _ = try await CustomerVault.restoreBackup(file, to: target, key: key, principal: principal, credential: credential)
            }?.code == expected, "\(principal)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { $0.hasPrefix("restored.vault") } == [])
        }
        _ = try await CustomerVault.restoreBackup(file, to: target, key: key, principal: "admin", credential: try Fixtures.credential())
        let restored = try await CustomerVault.open(at: target, principal: "admin", credential: try Fixtures.credential())
        defer { try? restored.close() }
        #expect(try await restored.listCustomers(limit: 10).count == 3)
    }

    @Test("restore refuses to overwrite without force, and a recovery key file opens backups without the vault")
    func restoreSafety() async throws {
        let (fixture, file, _) = try await Self.backedUp(customers: 5)
        let recovery = fixture.directory.path("recovery.key")
        try await fixture.admin.exportBackupKey(to: recovery)
        let attributes = try FileManager.default.attributesOfItem(atPath: recovery)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let key = try BackupKey.recoveryFile(at: recovery)
        let admin = try Credential.keyFile(at: fixture.adminKeyFile())
        let before = try Data(contentsOf: URL(fileURLWithPath: fixture.path))
        #expect(await VaultError.caught {
            _ = try await CustomerVault.restoreBackup(file, to: fixture.path, key: key, principal: "admin", credential: admin)
        }?.code == .conflict)
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.path)) == before)
        // A credential that does not unlock the restored principal: refused, nothing written.
        let target = fixture.directory.path("elsewhere.vault")
        #expect(await VaultError.caught {
            _ = try await CustomerVault.restoreBackup(file, to: target, key: key, principal: "admin", credential: .keyFile(SecretBytes(randomCount: 32)))
        }?.code == .badCredential)
        #expect(!FileManager.default.fileExists(atPath: target))
        // A role the restored policy does not allow vault.restore: refused.
        #expect(await VaultError.caught {
            _ = try await CustomerVault.restoreBackup(file, to: target, key: key, principal: "auditor",
                                                     credential: .keyFile(SecretBytes(copying: [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.writeKeyFile("auditor")))))))
        }?.code == .accessDenied)
        #expect(!FileManager.default.fileExists(atPath: target))
        let report = try await CustomerVault.restoreBackup(file, to: target, key: key, principal: "admin", credential: admin)
        #expect(!report.replacedExisting)
        #expect(try await CustomerVault.restoreBackup(file, to: target, force: true, key: key, principal: "admin", credential: admin).replacedExisting)
        // A backup file is never overwritten.
        #expect(await VaultError.caught { _ = try await fixture.admin.createBackup(to: file) }?.code == .conflict)
    }
}
