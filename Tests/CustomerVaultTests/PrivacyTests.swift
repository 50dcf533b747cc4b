import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

@Suite("Privacy operations", .serialized)
struct PrivacyTests {
    /// A person whose every value is a canary, with history.
    static let subject: [String: String] = [
        "name": "Zyxerase Quillon", "email": "zyxerase.quillon@example.com", "phone": "+44 20 7946 0555",
        "address": "9 Zyxerase Lane", "age": "52", "gender": "zyxgender", "region": "EU", "marketing_consent": "true",
    ]
    static let summary = "Zyxerase asked about order Z-77"
    static let fragments = ["Zyxerase", "zyxerase", "Quillon", "7946 0555", "79460555", "zyxgender"]

    static func addSubject(_ vault: CustomerVault, values: [String: String] = subject, summary: String = summary, order: String = "Z-77") async throws -> Int64 {
        let id = try await vault.addCustomer(values)
        _ = try await vault.addHistory(.interactions, customerID: id, values: ["occurred_at": "2026-02-03T04:05:06Z", "channel": "chat", "summary": summary])
        _ = try await vault.addHistory(.transactions, customerID: id, values: [
            "order_id": order, "order_time": "2026-02-03T04:05:06Z", "payment_method": "card", "amount": "99.90", "currency": "GBP"])
        _ = try await vault.recordBehaviour(customerID: id, adding: BehaviourCounters(browse: 4, purchase: 1))
        return id
    }

    /// Occurrences of any of `needles` in the bytes of the vault file and its WAL.
    static func occurrences(_ needles: [[UInt8]], in path: String) throws -> Int {
        var count = 0
        for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            for needle in needles where !needle.isEmpty && bytes.count >= needle.count {
                var index = 0
                while index + needle.count <= bytes.count {
                    if bytes[index] == needle[0], Array(bytes[index..<index + needle.count]) == needle { count += 1 }
                    index += 1
                }
            }
        }
        return count
    }

    /// The nonces of a customer's stored envelopes (and of its interactions): 24 random bytes each,
    /// so finding one anywhere means the ciphertext is still there.
    static func envelopeNonces(_ path: String, customer: Int64) throws -> [[UInt8]] {
        try VaultFileInspector(path).envelopes(ofCustomer: customer).flatMap { row -> [[UInt8]] in
            [row.sealed, row.masked].compactMap { $0 }.map { data in
                let bytes = [UInt8](data)
                let start = FieldEnvelope.headerLength(bytes[0])
                return Array(bytes[start..<start + 24])
            }
        }
    }

    @Test("erasure removes every trace from the file, WAL, exports and log; a restored older backup erases the person again")
    func erasureSurvivesRestore() async throws {
        let fixture = try await RoleFixture.make()
        let id = try await Self.addSubject(fixture.admin)
        let other = try await Self.addSubject(fixture.admin, values: Fixtures.customer(4_242), summary: "kept interaction", order: "K-1")
        try await fixture.admin.checkpoint()
        let nonces = try Self.envelopeNonces(fixture.path, customer: id)
        #expect(nonces.count >= 7)
        #expect(try Self.occurrences(nonces, in: fixture.path) >= nonces.count, "the scan finds the envelopes before erasure")
        let before = fixture.directory.path("before.cvbackup")
        _ = try await fixture.admin.createBackup(to: before)

        let dpo = try await fixture.open("dpo", purpose: "subject_request")
        #expect(await VaultError.caught { _ = try await fixture.open("dpo").eraseCustomer(id) }?.code == .accessDenied, "a purpose is required")
        let receipt = try await dpo.eraseCustomer(id)
        #expect(receipt.walCleared && receipt.entry.customer == id && receipt.entry.transactions == "kept_pseudonymised")
        #expect(receipt.entry.removed.sealedValues >= 6 && receipt.entry.removed.interactions == 1 && receipt.entry.removed.indexEntries == 3)
        #expect(await VaultError.caught { _ = try await dpo.eraseCustomer(id) }?.code == .conflict)

        // Nothing left: not the values, not their ciphertexts, in the file or the WAL.
        let plainForms = Self.fragments.map { Array($0.utf8) } + [Array(Self.summary.utf8)]
        #expect(try Self.occurrences(nonces + plainForms, in: fixture.path) == 0)
        #expect(await VaultError.caught { _ = try await fixture.admin.customer(id) }?.code == .notFound)
        #expect(try await fixture.admin.findCustomers(field: "email", equalTo: Self.subject["email"]!).isEmpty)
        var exported = Data()
        _ = try await fixture.admin.exportCustomers(format: .jsonl, output: { exported += $0 })
        let log = try JSONEncoder().encode(try await fixture.admin.auditLog(limit: 10_000))
        let receiptJSON = try JSONEncoder().encode(receipt)
        for text in [String(decoding: exported, as: UTF8.self), String(decoding: log, as: UTF8.self), String(decoding: receiptJSON, as: UTF8.self)] {
            #expect(!Self.fragments.contains { text.contains($0) })
        }
        #expect(String(decoding: exported, as: UTF8.self).contains("person4242@example.com"), "the other customer is untouched")
        // The transaction is kept for accounting, without an owner that can be identified.
        #expect(try await fixture.admin.aggregateReport().customers == 3)
        let kept = try VaultFileInspector(fixture.path).count("transactions", where: ["customer_id": .is(id)])
        #expect(kept == 1)
        #expect(try ErasureLedger.read(sidecar: fixture.path + ".erasures").map(\.entry.customer) == [id])

        // Restoring the backup taken before the erasure, over the vault: the person does not come back.
        let key = try await fixture.admin.backupKey(for: before)
        let admin = try Credential.keyFile(at: fixture.adminKeyFile())
        try fixture.admin.close()
        let report = try await CustomerVault.restoreBackup(before, to: fixture.path, force: true, key: key, principal: "admin", credential: admin)
        #expect(report.erasuresReapplied == 1)
        #expect(try Self.occurrences(nonces + plainForms, in: fixture.path) == 0)
        let restored = try await CustomerVault.open(at: fixture.path, principal: "admin", credential: admin)
        defer { try? restored.close() }
        #expect(await VaultError.caught { _ = try await restored.customer(id) }?.code == .notFound)
        #expect(try await restored.customer(other).fields["email"] == "person4242@example.com")
        #expect(try await restored.erasureLedger().map(\.customer) == [id])
        var restoredExport = Data()
        _ = try await restored.exportCustomers(format: .jsonl, output: { restoredExport += $0 })
        #expect(!Self.fragments.contains { String(decoding: restoredExport, as: UTF8.self).contains($0) })

        // Restoring it to a new place with the ledger file: the same.
        let elsewhere = fixture.directory.path("elsewhere.vault")
        let second = try await CustomerVault.restoreBackup(before, to: elsewhere, key: key, principal: "admin", credential: admin,
                                                           ledgers: [fixture.path + ".erasures"])
        #expect(second.erasuresReapplied == 1)
        #expect(try Self.occurrences(nonces + plainForms, in: elsewhere) == 0)
        // …and without it, the backup holds the person: which is why the ledger must be kept.
        let bare = fixture.directory.path("bare.vault")
        #expect(try await CustomerVault.restoreBackup(before, to: bare, key: key, principal: "admin", credential: admin).erasuresReapplied == 0)
        #expect(try Self.occurrences(nonces, in: bare) > 0)
    }

    @Test("a subject export holds every field, transaction, interaction and access-log entry of the person, and nothing of anyone else")
    func subjectExport() async throws {
        let fixture = try await RoleFixture.make()
        let id = try await Self.addSubject(fixture.admin)
        var otherValues = Fixtures.customer(5_151)
        otherValues["name"] = "Otherperson Vexley"
        let other = try await Self.addSubject(fixture.admin, values: otherValues, summary: "Vexley complained loudly", order: "V-9")
        _ = try await fixture.admin.customer(id)
        _ = try await fixture.admin.customer(other)
        // Every access-log entry naming the person so far: creation, history, behaviour, the read above.
        let expected = try await fixture.admin.auditLog(filter: AuditFilter(customer: id), limit: 10_000).map(\.seq)
        let dpo = try await fixture.open("dpo", purpose: "subject_request")
        let export = try await dpo.exportSubject(id)
        for (field, value) in Self.subject where field != "phone" {
            #expect(export.customer.fields[field] == value, "field \(field)")
        }
        #expect(export.customer.fields["phone"] == "+442079460555")
        #expect(export.consents == ["marketing_consent": "true"])
        #expect(export.interactions.map { $0.fields["summary"] } == [Self.summary])
        #expect(export.transactions.map { $0.fields["order_id"] } == ["Z-77"])
        #expect(export.behaviour == BehaviourCounters(browse: 4, purchase: 1))
        #expect(expected.count >= 5)
        #expect(Set(export.accessLog.map(\.seq)).isSuperset(of: expected))
        let json = String(decoding: try JSONEncoder().encode(export), as: UTF8.self)
        for foreign in ["Otherperson", "Vexley", "person5151@example.com", "V-9", RoleFixture.canary["email"]!, "Qzcanary"] {
            #expect(!json.contains(foreign), "the export holds \(foreign)")
        }
        // Gated and logged like any read; other roles are refused.
        #expect(await VaultError.caught { _ = try await fixture.open("support", purpose: "support_ticket").exportSubject(id) }?.code == .accessDenied)
        #expect(try await fixture.admin.auditLog(filter: AuditFilter(customer: id, action: "subject.export"), limit: 10).count == 1)
    }

    @Test("retention: a dry run counts exactly what the run removes, nothing inside retention is removed, and a second dry run finds nothing")
    func retention() async throws {
        let fixture = try await RoleFixture.make()
        let now = Date()
        func ago(days: Int) -> String { Timestamps.instant(now.addingTimeInterval(-Double(days) * 86_400)) }
        var active: [Int64] = [], inactive: [Int64] = []
        for n in 0..<30 {
            let id = try await fixture.admin.addCustomer(Fixtures.customer(3_000 + n))
            let old = n >= 20
            if old { inactive.append(id) } else { active.append(id) }
            _ = try await fixture.admin.addHistory(.interactions, customerID: id, values: [
                "occurred_at": ago(days: old ? 2_200 : n * 30), "channel": "email", "summary": "contact \(n)"])
            _ = try await fixture.admin.addHistory(.transactions, customerID: id, values: [
                "order_id": "R-\(n)", "order_time": ago(days: old ? 2_557 : n * 200), "payment_method": "card", "amount": "1.00", "currency": "EUR"])
        }
        let sixYearsAgo = ago(days: 2_200)
        try Fixtures.rewriteCustomers(inactive, of: fixture.admin) { $0.updatedAt = sixYearsAgo }
        // Shipped periods: interactions 2y, transactions 10y, inactive customers 5y. By construction:
        // the 10 inactive customers' interactions (6 years old), one transaction (n = 19: 3,800 days),
        // and the 10 inactive customers.
        let expected: [RetentionKind: Int] = [.interactions: 10, .transactions: 1, .inactiveCustomers: 10]
        let path = fixture.path
        func counts() throws -> (interactions: Int, transactions: Int, customers: Int) {
            let file = try VaultFileInspector(path)
            return (try file.count("interactions"), try file.count("transactions"), try file.count("customers", where: ["erased_at": .null]))
        }
        let before = try counts()
        let dpo = try await fixture.open("dpo", purpose: "legal_request")
        let dry = try await dpo.applyRetention(dryRun: true, asOf: now)
        #expect(Dictionary(uniqueKeysWithValues: dry.items.map { ($0.kind, $0.count) }) == expected)
        #expect(try counts() == before, "a dry run changes nothing")
        let applied = try await dpo.applyRetention(dryRun: false, asOf: now)
        #expect(applied.items.map(\.count) == dry.items.map(\.count))
        let after = try counts()
        #expect(after.interactions == before.interactions - 10 && after.transactions == before.transactions - 1 && after.customers == before.customers - 10)
        // What is left is all inside retention, and the erased are exactly the inactive customers.
        let cutoffs = Dictionary(uniqueKeysWithValues: applied.items.map { ($0.kind, $0.cutoff) })
        let file = try VaultFileInspector(fixture.path)
        let left = (try file.interactions(occurredBefore: cutoffs[.interactions]!), try file.transactions(orderedBefore: cutoffs[.transactions]!),
                    Set(try file.values("id", in: "customers", where: ["erased_at": .notNull]).compactMap(\.int)))
        #expect(left.0 == 0 && left.1 == 0)
        #expect(left.2 == Set(inactive))
        for id in active { #expect(try await fixture.admin.customer(id).fields["email"] != nil) }
        #expect(Set(try await fixture.admin.erasureLedger().map(\.customer)) == Set(inactive))
        #expect(try await dpo.applyRetention(dryRun: true, asOf: now).items.allSatisfy { $0.count == 0 })
        // Roles that may not erase cannot apply retention.
        #expect(await VaultError.caught { _ = try await fixture.open("support", purpose: "support_ticket").applyRetention(dryRun: true) }?.code == .accessDenied)
    }

    @Test("withdrawing consent hides the customer from marketing at its next request; the consent history keeps each change with its time")
    func consent() async throws {
        let fixture = try await RoleFixture.make()
        let marketing = try await fixture.open("marketing")
        var values = Fixtures.customer(6_100)
        values["marketing_consent"] = "true"
        let id = try await fixture.admin.addCustomer(values)
        #expect(try await marketing.listCustomers(limit: 1_000).map(\.id).contains(id))
        try await fixture.admin.updateCustomer(id, set: ["marketing_consent": "false"])
        #expect(try await !marketing.listCustomers(limit: 1_000).map(\.id).contains(id), "withdrawn: gone from the already-open handle")
        var exported = Data()
        _ = try await marketing.exportCustomers(format: .jsonl, output: { exported += $0 })
        #expect(!String(decoding: exported, as: UTF8.self).contains("person6100@example.com"))
        #expect(String(decoding: exported, as: UTF8.self).contains(RoleFixture.canary["email"]!), "consenting customers are still exported")
        try await fixture.admin.updateCustomer(id, set: ["region": "UK"])  // not a consent change: no event
        try await fixture.admin.updateCustomer(id, set: ["marketing_consent": "true"])
        #expect(try await marketing.listCustomers(limit: 1_000).map(\.id).contains(id))
        let history = try await fixture.open("dpo", purpose: "subject_request").exportSubject(id).consentHistory
        #expect(history.map(\.granted) == [true, false, true])
        #expect(history.allSatisfy { $0.consent == "marketing_consent" && Timestamps.parseInstant($0.at) == $0.at })
        _ = try await fixture.open("dpo", purpose: "subject_request").eraseCustomer(id)
        #expect(try VaultFileInspector(fixture.path).count("consent_events", where: ["customer_id": .is(id)]) == 0)
    }

    @Test("dedupe links a phone in another format and a name in another case with the same address; merge moves the history and deletes the duplicate")
    func dedupeAndMerge() async throws {
        let fixture = try await RoleFixture.make()
        let original = try await Self.addSubject(fixture.admin)
        var samePhone = Fixtures.customer(7_777)
        samePhone["phone"] = "020 7946 0555"  // the subject's +44 20 7946 0555, written nationally
        samePhone["country"] = "GB"
        let byPhone = try await fixture.admin.addCustomer(samePhone)
        var sameName = Fixtures.customer(7_778)
        sameName["name"] = "  ZYXERASE   quillon "
        sameName["address"] = Self.subject["address"]!
        sameName.removeValue(forKey: "phone")
        let byName = try await Self.addSubject(fixture.admin, values: sameName, summary: "second contact", order: "Z-78")
        let groups = try await fixture.admin.findDuplicates()
        #expect(groups == [DuplicateGroup(customers: [original, byPhone, byName].sorted(), links: ["name+address", "phone"])])
        // Marketing sees e-mails only: no link is used, nothing is grouped.
        #expect(try await fixture.open("marketing").findDuplicates().isEmpty)

        let merged = try await fixture.admin.mergeCustomers(keep: original, drop: byName)
        #expect(merged.transactionsMoved == 1 && merged.interactionsMoved == 1)
        #expect(merged.behaviour == BehaviourCounters(browse: 8, purchase: 2))
        #expect(try await fixture.admin.history(.interactions, customerID: original).compactMap { $0.fields["summary"] }.sorted() == [Self.summary, "second contact"].sorted())
        #expect(await VaultError.caught { _ = try await fixture.admin.customer(byName) }?.code == .notFound)
        #expect(await VaultError.caught { _ = try await fixture.open("support", purpose: "support_ticket").mergeCustomers(keep: original, drop: byPhone) }?.code == .accessDenied)
        #expect(try await fixture.admin.findDuplicates().map(\.customers) == [[original, byPhone].sorted()])
    }
}
