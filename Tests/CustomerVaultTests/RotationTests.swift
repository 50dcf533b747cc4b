import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

@Suite("Key rotation", .serialized)
struct RotationTests {
    /// A role fixture with 120 more customers, some written by intake (write sessions).
    static func populated() async throws -> (RoleFixture, [Int64: [String: String]]) {
        let fixture = try await RoleFixture.make()
        var customers: [Int64: [String: String]] = [:]
        let intake = try await fixture.open("intake")
        for n in 0..<120 {
            let values = Fixtures.customer(6_000 + n)
            let id = try await (n % 3 == 0 ? intake : fixture.admin).addCustomer(values)
            customers[id] = values
        }
        return (fixture, customers)
    }

    static func oldVersions(_ path: String) throws -> Int {
        let file = try VaultFileInspector(path)
        return try ["sealed_values", "blind_indexes", "unique_indexes"].map { try file.count($0, where: ["key_version": .below(2)]) }.reduce(0, +)
    }

    /// How many index entries name `customer`, in both indexes.
    static func entriesNaming(_ customer: Int64, _ path: String) throws -> Int {
        let file = try VaultFileInspector(path)
        return try ["blind_indexes", "unique_indexes"].map { try file.count($0, where: ["customer_id": .is(customer)]) }.reduce(0, +)
    }

    /// How many index entries each customer has per searchable field (a set of the counts seen).
    static func indexEntryCounts(_ path: String) throws -> Set<Int> {
        try VaultFileInspector(path).indexEntryCountsPerCustomerField()
    }

    @Test("rotating every field re-encrypts every value under the new version; every view and search still works")
    func rotateAll() async throws {
        let (fixture, customers) = try await Self.populated()
        let schema = { () throws -> [String] in try VaultFileInspector(fixture.path).schemaObjects() }
        let before = try schema()
        let report = try await fixture.admin.rotateKeys(batchSize: 37)
        #expect(report.versions.values.allSatisfy { $0 == 2 })
        #expect(try Self.oldVersions(fixture.path) == 0)
        // Each new index entry replaces the old one as its record is re-sealed: one entry per value is left.
        #expect(try Self.indexEntryCounts(fixture.path) == [1])
        // The file's schema is as it was, and consistent.
        #expect(try schema() == before)
        #expect(try VaultFileInspector(fixture.path).integrityCheck() == ["ok"])
        #expect(try fixture.rawSealedRows().allSatisfy { FieldEnvelope.session(of: $0.sealed) == nil }, "session envelopes became ordinary ones")
        for (id, values) in customers {
            let record = try await fixture.admin.customer(id)
            #expect(record.fields["email"] == values["email"] && record.fields["address"] == values["address"])
        }
        // Another principal, unlocked before or after the rotation, reads in its views.
        let support = try await fixture.open("support", purpose: "support_ticket")
        let canary = try await support.findCustomers(field: "phone", equalTo: RoleFixture.canary["phone"]!)
        #expect(canary.first?.fields["address"] == RoleFixture.canaryMasked["address"])
        for (_, values) in customers.prefix(20) {
            #expect(try await fixture.admin.findCustomers(field: "name", equalTo: values["name"]!).count == 1)
        }
        let status = try await fixture.admin.keyStatus()
        #expect(status.rotationInProgress == nil)
        #expect(status.fields.allSatisfy { $0.currentVersion == 2 && $0.liveOlderVersions == [1] })
        #expect(try await CustomerVault.verifyAuditLog(at: fixture.path).entries > 0)
    }

    @Test("search by e-mail, phone and name returns the right record at every moment of a rotation")
    func searchDuringRotation() async throws {
        let (fixture, customers) = try await Self.populated()
        let searcher = try await fixture.open("admin")
        let rotation = Task { try await fixture.admin.rotateKeys(batchSize: 5) }
        var searches = 0
        // One customer is deleted mid-rotation: none of its index entries may be left behind.
        let (deleted, _) = try #require(customers.max { $0.key < $1.key })
        let entries = Array(customers.filter { $0.key != deleted })
        var counts: Set<Int> = []
        repeat {
            let (id, values) = entries[searches % entries.count]
            for field in ["email", "phone", "name"] {
                let found = try await searcher.findCustomers(field: field, equalTo: values[field]!)
                #expect(found.map(\.id) == [id], "search by \(field) during rotation")
            }
            // Each re-sealed record's new entry replaced its old one in the same transaction.
            counts.formUnion(try Self.indexEntryCounts(fixture.path))
            if searches == 3 {
                try await fixture.admin.deleteCustomer(deleted)
                #expect(try Self.entriesNaming(deleted, fixture.path) == 0, "index entries of the customer deleted mid-rotation")
            }
            searches += 1
        } while try await fixture.admin.keyStatus().rotationInProgress != nil || searches < 10
        _ = try await rotation.value
        #expect(searches >= 10)
        #expect(counts == [1], "index entries per customer and field seen during the rotation: \(counts.sorted())")
        #expect(try await fixture.admin.verifyIntegrity().indexEntries > 0)
        // Writes during and after rotation: a duplicate e-mail is still refused.
        var duplicate = Fixtures.customer(1)
        duplicate["email"] = entries[0].value["email"]
        #expect(await VaultError.caught { _ = try await fixture.admin.addCustomer(duplicate) }?.code == .conflict)
    }

    @Test("after retire, a copy taken before the rotation cannot be decrypted with the current keyrings")
    func retireMakesOldCopiesUseless() async throws {
        let (fixture, _) = try await Self.populated()
        try await fixture.admin.checkpoint()
        let oldCopy = fixture.directory.path("before-rotation.vault")
        try FileManager.default.copyItem(atPath: fixture.path, toPath: oldCopy)
        // Refused while values still use the old version (nothing rotated yet means nothing to retire).
        #expect(try await fixture.admin.retireKeys().isEmpty)
        _ = try await fixture.admin.rotateKeys()
        let retired = try await fixture.admin.retireKeys()
        #expect(retired.contains { $0.field == "customers.email" && $0.purpose == "seal" && $0.version == 1 })
        // Every current keyring, every key it holds, against every envelope of the old copy.
        let oldRows = try VaultFileInspector(oldCopy).rows("sealed_values", columns: ["entity", "record_id", "field", "sealed", "masked"]).map {
            (try #require($0["entity"].text), try #require($0["record_id"].int), try #require($0["field"].text), try #require($0["sealed"].bytes),
             $0["masked"].bytes)
        }
        var attempts = 0, opened = 0
        for role in RoleFixture.roles {
            // Freshly unlocked: the keyrings as the vault now grants them.
            let vault = role == "admin"
                ? try await CustomerVault.open(at: fixture.path, principal: "admin", credential: .keyFile(at: try fixture.adminKeyFile()))
                : try await fixture.open(role)
            let keys = vault.keyring.scopes.compactMap { vault.keyring.key($0) }
            for row in oldRows {
                for (view, envelope) in [(SealedSlot.View.plain, row.3), (.masked, row.4)] {
                    guard let envelope, let version = FieldEnvelope.keyVersion(of: envelope) else { continue }
                    let slot = SealedSlot(entity: Entity(rawValue: row.0)!, field: row.2, recordID: row.1, view: view)
                    for key in keys {
                        attempts += 1
                        if (try? FieldEnvelope.open(envelope, key: key, keyVersion: version, vaultID: vault.vaultIDBytes, slot: slot)) != nil { opened += 1 }
                    }
                }
            }
        }
        #expect(attempts > 1_000)
        #expect(opened == 0)
        // Positive control: the same attempt with the keyring from before the rotation opens the old copy.
        let stale = fixture.admin.keyring.scopes.compactMap { fixture.admin.keyring.key($0) }
        let sample = oldRows.first { $0.2 == "email" }!
        let slot = SealedSlot(entity: .customers, field: "email", recordID: sample.1, view: .plain)
        #expect(stale.contains { (try? FieldEnvelope.open(sample.3, key: $0, keyVersion: 1, vaultID: fixture.admin.vaultIDBytes, slot: slot)) != nil })
    }

    @Test("retire refuses while a value still uses an old version, naming the count")
    func retireRefuses() async throws {
        let (fixture, _) = try await Self.populated()
        _ = try await fixture.admin.rotateKeys(fields: ["email"])
        // A value written meanwhile under version 1 by a process that had not seen the new keys.
        try VaultFileInspector(fixture.path).rollBackFirstEmailToVersion1()
        let error = await VaultError.caught { _ = try await fixture.admin.retireKeys(fields: ["email"]) }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("1 values") == true, "\(error?.message ?? "")")
    }

    @Test("disabling with --rotate rotates every field the principal held; a credential change re-wraps only")
    func disableRotatesAndPasswdRewraps() async throws {
        let (fixture, _) = try await Self.populated()
        let before = try fixture.rawSealedRows().map(\.sealed)
        let auditor = try await fixture.open("auditor")
        let clock = ContinuousClock()
        let elapsed = try await clock.measure { try await auditor.changeCredential(to: .keyFile(try SecretBytes(randomCount: 32))) }
        #expect(try fixture.rawSealedRows().map(\.sealed) == before, "a credential change touches no value")
        #expect(elapsed < .seconds(5))
        let rotation = try await fixture.admin.disablePrincipal("support", rotatingItsKeys: true)
        #expect(Set(rotation?.fields ?? []) == ["customers.name", "customers.email", "customers.phone", "customers.address",
                                                "interactions.summary"], "every field it held a key of, write-only ones included")
        let status = try await fixture.admin.keyStatus()
        #expect(status.fields.first { $0.field == "customers.email" }?.currentVersion == 2)
        #expect(status.fields.first { $0.field == "customers.age" }?.currentVersion == 1)
    }

    @Test("a long-running write-only principal picks up rotated keys; a failed write never leaves it sealing to a lost session")
    func writeOnlyAcrossRotation() async throws {
        let (fixture, _) = try await Self.populated()
        let intake = try await fixture.open("intake")
        _ = try await fixture.admin.rotateKeys(fields: ["email", "name"])
        // The first write after the rotation refreshes the keyring and starts new write sessions
        // inside its transaction; this one fails (duplicate e-mail) and rolls them back.
        var duplicate = Fixtures.customer(9_100)
        duplicate["email"] = RoleFixture.canary["email"]
        #expect(await VaultError.caught { _ = try await intake.addCustomer(duplicate) }?.code == .conflict)
        let id = try await intake.addCustomer(Fixtures.customer(9_101))
        let record = try await fixture.admin.customer(id)
        #expect(record.fields["email"] == Fixtures.customer(9_101)["email"])
        #expect(try fixture.rawSealedRows().filter { $0.recordID == id && $0.field == "email" }.map(\.keyVersion) == [2])
    }

    @Test("resume without an unfinished rotation is 'not found'; a second rotation while one is unfinished is refused")
    func resumeRules() async throws {
        let (fixture, _) = try await Self.populated()
        #expect(await VaultError.caught { _ = try await fixture.admin.rotateKeys(resume: true) }?.code == .notFound)
        // A rotation row planted in the file without a tag is refused, not resumed.
        try VaultFileInspector(fixture.path).insert(into: "key_rotations", ["fields": "customers.email", "started_by": "admin", "started_at": "x"])
        #expect(await VaultError.caught { _ = try await fixture.admin.rotateKeys(resume: true) }?.code == .integrity)
        // The same row tagged (as an interrupted rotation leaves it) is resumed.
        let integrity = try fixture.admin.recordIntegrity
        try VaultFileInspector(fixture.path).update("key_rotations", set: [
            "tag": try integrity.rotation(id: 1, fields: "customers.email", startedBy: "admin", startedAt: "x", finishedAt: nil),
        ], where: ["id": 1])
        #expect(await VaultError.caught { _ = try await fixture.admin.rotateKeys(fields: ["name"]) }?.code == .conflict)
        let resumed = try await fixture.admin.rotateKeys(resume: true)
        #expect(resumed.resumed && resumed.fields == ["customers.email"])
        #expect(try await fixture.admin.keyStatus().rotationInProgress == nil)
    }
}
