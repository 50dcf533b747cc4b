import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault

/// Keys, not only code, enforce each role's views: a principal with its own credential and the raw
/// SQLite file tries to decrypt every value it may not read in plain, with every key it holds.
@Suite("Key enforcement", .serialized)
struct KeyEnforcementTests {
    /// Tries everything `vault`'s keyring and secrets allow on every stored envelope of the fields
    /// `eligible` selects; returns how many opened.
    static func decryptions(by vault: CustomerVault, rows: [(entity: String, recordID: Int64, field: String, keyVersion: Int64, sealed: [UInt8], masked: [UInt8]?)],
                            sessions: [(id: Int64, field: String, purpose: String, version: Int64, sealedKey: [UInt8])],
                            eligible: (String, SealedSlot.View) -> Bool) throws -> (attempted: Int, opened: Int) {
        let keys = vault.keyring.scopes.compactMap { vault.keyring.key($0) }
        // Every candidate key: the granted keys themselves, and any session key they (or the
        // principal's own X25519 key) can open, whatever field the session claims to be for.
        var candidates = keys
        var boxKeys = [vault.secrets.boxKeyPair]
        for key in keys { if let pair = try? WriteKeyPair.derive(from: key) { boxKeys.append(pair) } }
        for session in sessions {
            for pair in boxKeys {
                if let opened = try? SealedBox.open(session.sealedKey, with: pair) { candidates.append(opened) }
            }
        }
        var attempted = 0, opened = 0
        for row in rows {
            guard let entity = Entity(rawValue: row.entity) else { continue }
            for (view, envelope) in [(SealedSlot.View.plain, row.sealed), (.masked, row.masked)] {
                guard let envelope, eligible("\(row.entity).\(row.field)", view), let version = FieldEnvelope.keyVersion(of: envelope) else { continue }
                attempted += 1
                let slot = SealedSlot(entity: entity, field: row.field, recordID: row.recordID, view: view)
                if candidates.contains(where: { (try? FieldEnvelope.open(envelope, key: $0, keyVersion: version, vaultID: vault.vaultIDBytes, slot: slot)) != nil }) {
                    opened += 1
                }
            }
        }
        return (attempted, opened)
    }

    /// The shipped views, written out by hand (the oracle is not the code under test).
    static func view(_ role: String, _ field: String) -> FieldView {
        switch role {
        case "admin", "dpo": return .plain
        case "support":
            if ["customers.name", "customers.email", "customers.phone"].contains(field) { return .plain }
            return field == "customers.address" ? .masked : .none
        case "marketing": return field == "customers.email" ? .plain : .none
        default: return .none
        }
    }

    /// A fixture where intake and support have written values through write sessions too.
    static func populated() async throws -> RoleFixture {
        let fixture = try await RoleFixture.make()
        let intake = try await fixture.open("intake")
        let added = try await intake.addCustomer(Fixtures.customer(501, region: "EU"))
        _ = try await intake.addHistory(.interactions, customerID: added, values: [
            "occurred_at": "2026-02-03T04:05:06Z", "channel": "chat", "summary": "Qzcanary intake note"])
        let support = try await fixture.open("support")
        try await support.updateCustomer(fixture.euID, set: ["address": "78 Qzcanary Wharf"])
        return fixture
    }

    @Test("support (masked address), analyst and intake decrypt nothing they may not read in plain, with any key they hold",
          arguments: ["support", "analyst", "intake", "marketing", "auditor"])
    func noDecryptionBeyondTheView(role: String) async throws {
        let fixture = try await Self.populated()
        let vault = try await fixture.open(role)
        let rows = try fixture.rawSealedRows()
        #expect(rows.contains { FieldEnvelope.session(of: $0.sealed) != nil }, "some values were written through write sessions")
        // Full values of every field not viewed in plain; masked views of every field viewed as none.
        let result = try Self.decryptions(by: vault, rows: rows, sessions: try fixture.rawSessions()) { field, view in
            view == .plain ? Self.view(role, field) != .plain : Self.view(role, field) == .none
        }
        #expect(result.attempted > 10)
        #expect(result.opened == 0, "\(role) opened \(result.opened) of \(result.attempted) values it may not read")
    }

    @Test("positive control: the same attempt by the admin opens every value, session-written ones included")
    func adminOpensEverything() async throws {
        let fixture = try await Self.populated()
        let rows = try fixture.rawSealedRows()
        let result = try Self.decryptions(by: fixture.admin, rows: rows, sessions: try fixture.rawSessions()) { _, _ in true }
        #expect(result.attempted == rows.count + rows.filter { $0.masked != nil }.count)
        #expect(result.opened == result.attempted)
    }

    @Test("a masked role opens the masked views it is granted with its own keys, and only those")
    func supportOpensMaskedAddress() async throws {
        let fixture = try await Self.populated()
        let support = try await fixture.open("support")
        let rows = try fixture.rawSealedRows().filter { $0.field == "address" }
        let result = try Self.decryptions(by: support, rows: rows, sessions: try fixture.rawSessions()) { _, view in view == .masked }
        #expect(result.attempted == rows.count)
        #expect(result.opened == rows.count)
    }

    @Test("keyrings hold exactly the key purposes the policy implies")
    func keyringContents() async throws {
        let fixture = try await RoleFixture.make()
        func purposes(_ role: String) async throws -> Set<String> {
            Set(try await fixture.open(role).keyring.scopes.map { "\($0.field)/\($0.purpose.rawValue)" })
        }
        #expect(try await purposes("analyst") == ["vault/record"], "the analyst holds only the key that checks the rows it counts")
        #expect(try await purposes("auditor") == ["vault/audit"], "the auditor holds only the key of search-term digests")
        let support = try await purposes("support")
        #expect(support.contains("customers.address/mask") && support.contains("customers.address/seal_public"))
        #expect(!support.contains("customers.address/seal"))
        #expect(!support.contains { $0.hasPrefix("customers.birth_date") || $0.hasPrefix("customers.age") })
        let intake = try await purposes("intake")
        #expect(!intake.contains { $0.hasSuffix("/seal") || $0.hasSuffix("/mask") || $0.hasSuffix("/root") })
        #expect(intake.contains("customers.email/index"), "intake refuses duplicate e-mails through the index")
        #expect(try await purposes("admin").contains("vault/root"))
    }
}

@Suite("Write-only intake", .serialized)
struct IntakeTests {
    @Test("intake writes 1,000 customers and reads back 0 personal values; an admin reads all 1,000")
    func intakeWritesThousand() async throws {
        let fixture = try await RoleFixture.make()
        let intake = try await fixture.open("intake")
        var expected: [String: [String: String]] = [:]
        var csv = "name,email,phone,address,age,gender,region\n"
        for n in 1...990 {
            let values = Fixtures.customer(10_000 + n)
            expected[values["email"]!] = values
            csv += ["name", "email", "phone", "address", "age", "gender", "region"].map { "\"\(values[$0]!)\"" }.joined(separator: ",") + "\n"
        }
        let report = try await intake.importCSV(.customers, from: try fixture.directory.write("intake.csv", csv))
        #expect(report.accepted == 990 && report.rejected == 0, "\(report.rejects.prefix(3))")
        var ids: [Int64] = []
        for n in 991...1_000 {
            let values = Fixtures.customer(10_000 + n)
            expected[values["email"]!] = values
            ids.append(try await intake.addCustomer(values))
        }

        // Through the library: every read path is refused, and no refusal carries a value.
        var readBack = 0
        var errors: [VaultError] = []
        for id in ids {
            if let error = await VaultError.caught({ _ = try await intake.customer(id) }) { errors.append(error) } else { readBack += 1 }
        }
        for attempt in [
            { _ = try await intake.listCustomers() },
            { _ = try await intake.findCustomers(field: "email", equalTo: "person10001@example.com") },
            { _ = try await intake.exportCustomers(format: .jsonl) { _ in } },
            { _ = try await intake.history(.interactions, customerID: ids[0]) },
        ] as [() async throws -> Void] {
            if let error = await VaultError.caught(attempt) { errors.append(error) } else { readBack += 1 }
        }
        #expect(readBack == 0)
        #expect(errors.allSatisfy { $0.code == .accessDenied })
        #expect(!errors.contains { error in expected.keys.contains { error.message.contains($0) } })

        // Through the file: with every key its credential unlocks, nothing opens.
        let rows = try fixture.rawSealedRows()
        let result = try KeyEnforcementTests.decryptions(by: intake, rows: rows, sessions: try fixture.rawSessions()) { _, _ in true }
        #expect(result.attempted >= 1_000 * 6)
        #expect(result.opened == 0)

        // The admin reads every one of them, exactly.
        var seen = 0
        var after: Int64 = 0
        while true {
            let page = try await fixture.admin.listCustomers(limit: 500, after: after)
            guard let last = page.last else { break }
            after = last.id
            for record in page {
                guard let email = record.fields["email"], let values = expected[email] else { continue }
                seen += 1
                #expect(record.fields["name"] == values["name"])
                #expect(record.fields["address"] == values["address"])
                #expect(record.fields["age"] == values["age"])
                #expect(record.fields["phone"] == Normalization.phone(values["phone"]!, defaultCountryCode: "44"))
            }
        }
        #expect(seen == 1_000)
    }

    @Test("intake gets a conflict for a duplicate e-mail without learning the existing customer's id")
    func duplicateEmail() async throws {
        let fixture = try await RoleFixture.make()
        let intake = try await fixture.open("intake")
        var values = Fixtures.customer(1)
        values["email"] = RoleFixture.canary["email"]
        let error = await VaultError.caught { _ = try await intake.addCustomer(values) }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains(String(fixture.euID)) == false)
    }
}
