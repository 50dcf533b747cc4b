import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

/// For every column of every table the vault reads: one value changed in the file (as an attacker
/// with write access and no credential would) is either refused as an integrity error, by the read
/// paths or by `cvault verify`, or provably changes nothing any principal can see.
@Suite("Row edits, column by column")
struct RowEditSweepTests {
    /// Columns whose change leaves every principal's view unchanged (not read, or read and checked
    /// only where it matters). SECURITY.md §2c lists them with the reason.
    static let inert: Set<String> = [
        "data_keys.created_at", "principals.created_at", "write_sessions.created_at",
        "write_sessions.root_signature", "policy_history.stored_at", "erasure_ledger.seq", "vault_meta.name[created_at]",
        "vault_meta.value[created_at]", "\(VaultFileInspector.sequenceTable).seq", "\(VaultFileInspector.sequenceTable).name",
    ]

    /// The vault the sweep edits: 100 customers with history, counters and consent changes, values
    /// written by a write-only principal, an import with a refused row, a finished rotation, a
    /// principal that changed its credential, a disabled one, an erasure and a second policy.
    static func make(in directory: TemporaryDirectory) async throws -> (path: String, keys: [String: SecretBytes]) {
        let fixture = try await RoleFixture.make()
        var keys: [String: SecretBytes] = [:]
        for role in RoleFixture.roles { keys[role] = try SecretBytes(copying: Array(Data(contentsOf: URL(fileURLWithPath: fixture.writeKeyFile(role))))) }
        let admin = fixture.admin
        for n in 0..<98 {
            var values = Fixtures.customer(5_000 + n, region: n % 3 == 0 ? "UK" : "EU")
            values["marketing_consent"] = n % 2 == 0 ? "true" : "false"
            let id = try await admin.addCustomer(values)
            _ = try await admin.addHistory(.interactions, customerID: id, values: ["occurred_at": "2026-02-03T04:05:06Z", "channel": "email", "summary": "note \(n)"])
            _ = try await admin.addHistory(.transactions, customerID: id, values: [
                "order_id": "S-\(n)", "order_time": "2026-02-03T04:05:06Z", "payment_method": "card", "amount": "\(n).25", "currency": "GBP"])
            if n % 10 == 0 { _ = try await admin.recordBehaviour(customerID: id, adding: BehaviourCounters(browse: n, purchase: 1)) }
            if n % 20 == 1 { try await admin.updateCustomer(id, set: ["marketing_consent": "true", "phone": "+44 20 7946 \(String(format: "%04d", 7_000 + n))"]) }
        }
        let intake = try await fixture.open("intake")
        for n in 0..<3 { _ = try await intake.addCustomer(Fixtures.customer(6_000 + n)) }
        _ = try await admin.importCSV(.customers, from: try directory.write("in.csv", "name,email,region\nImported One,imported.one@example.com,EU\nBad Row,not-an-email,EU\n"))
        _ = try await admin.rotateKeys(fields: ["phone"])
        _ = try await admin.retireKeys(fields: ["phone"])
        let marketingKey = try SecretBytes(randomCount: 32)
        _ = try await fixture.open("marketing").changeCredential(to: .keyFile(marketingKey))
        keys["marketing"] = marketingKey
        _ = try await admin.addPrincipal("leaver", role: "support", attributes: ["regions": "EU"], credential: .keyFile(try SecretBytes(randomCount: 32)))
        try await admin.disablePrincipal("leaver")
        _ = try await fixture.open("dpo", purpose: "subject_request").eraseCustomer(fixture.ukID)
        _ = try await admin.applyPolicy(yaml: Policy.defaultYAML + "\n# applied again\n", fileName: "again.yaml")
        try await admin.checkpoint()
        let path = directory.path("sweep.vault")
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        keys["admin"] = try SecretBytes(copying: Array(Data(contentsOf: URL(fileURLWithPath: fixture.adminKeyFile()))))
        return (path, keys)
    }

    /// A value as canonical text (sorted keys), so that equal views compare equal.
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    enum Outcome: Equatable {
        case refused(String)
        case view(String)
    }

    /// Everything the principals see: as the admin, every customer, its history and counters, the
    /// searches, reports, principals, keys, ledger, the access log as it was, and the checks; as
    /// each other role, what it reads. An integrity error (or a principal locked out) ends it.
    static func observe(_ path: String, keys: [String: SecretBytes], head: Int64) async -> Outcome {
        do {
            var lines: [String] = []
            let admin = try await CustomerVault.open(at: path, principal: "admin", credential: .keyFile(keys["admin"]!))
            defer { try? admin.close() }
            let customers = try await admin.listCustomers(limit: 10_000)
            for customer in customers {
                lines.append("\(customer.id) \(customer.fields.sorted { $0.key < $1.key }) \(customer.masked) \(customer.createdAt) \(customer.updatedAt)")
                for entity in [Entity.transactions, .interactions] {
                    lines += try await admin.history(entity, customerID: customer.id).map { "  \($0.id) \($0.fields.sorted { $0.key < $1.key })" }
                }
                lines.append("  " + (try json(try await admin.behaviour(customerID: customer.id))))
            }
            for field in ["email", "name", "phone"] {
                let found = try await admin.findCustomers(field: field, anyOf: customers.compactMap { $0.fields[field] })
                lines.append("find \(field): " + found.keys.sorted().map { "\($0)=\(found[$0]!.map(\.id))" }.joined(separator: ";"))
            }
            lines.append(try json(try await admin.aggregateReport()))
            lines.append(try json(try await admin.listPrincipals()))
            lines.append(try json(try await admin.keyStatus()))
            lines.append(try json(try await admin.erasureLedger()))
            lines.append(try json(try await admin.auditLog(limit: 10_000).filter { $0.seq <= head }))
            lines.append(try json(try await admin.exportSubject(customers[0].id).consentHistory))
            _ = try await CustomerVault.verifyAuditLog(at: path)
            _ = try await admin.verifyIntegrity()
            for role in ["support", "marketing"] {
                let vault = try await CustomerVault.open(at: path, principal: role, credential: .keyFile(keys[role]!))
                defer { try? vault.close() }
                let purpose = role == "support" ? try vault.withPurpose("support_ticket") : vault
                lines += try await purpose.listCustomers(limit: 10_000).map { "\(role) \($0.id) \($0.fields.sorted { $0.key < $1.key })" }
            }
            let analyst = try await CustomerVault.open(at: path, principal: "analyst", credential: .keyFile(keys["analyst"]!))
            lines.append("analyst " + (try json(try await analyst.aggregateReport())))
            try analyst.close()
            let auditor = try await CustomerVault.open(at: path, principal: "auditor", credential: .keyFile(keys["auditor"]!))
            lines.append("auditor \(try await auditor.auditLog(limit: 10_000).filter { $0.seq <= head }.count)")
            try auditor.close()
            for role in ["intake", "dpo"] {
                try await CustomerVault.open(at: path, principal: role, credential: .keyFile(keys[role]!)).close()
            }
            return .view(lines.joined(separator: "\n"))
        } catch let error as VaultError where error.code == .integrity || error.code == .badCredential || error.code == .unsupported {
            return .refused("\(error.code): \(error.message)")
        } catch {
            return .view("unexpected error: \(error)")
        }
    }

    @Test("every column of every table: a changed value is refused as an integrity error or changes nothing a principal sees")
    func sweep() async throws {
        let directory = try TemporaryDirectory()
        let (base, keys) = try await Self.make(in: directory)
        // Each look at the base file on a connection of its own, closed at once (as the last connection,
        // it leaves no WAL beside the file the edits copy).
        let head = try VaultFileInspector(base).largest("seq", in: "audit_log") ?? 0
        guard case .view(let baseline) = await Self.observe(base, keys: keys, head: head) else {
            Issue.record("the untouched vault does not verify")
            return
        }
        let schema = try { () throws -> [(String, [String], Int)] in
            let file = try VaultFileInspector(base)
            defer { try? file.close() }
            // The tables, and each sealed value as its own row (the per-value view of the values
            // each record's row packs), so that every column of a value is edited on its own.
            return try (file.tablesWithSequence() + [VaultFileInspector.sealedValues]).map { table in
                (table, try file.columns(of: table), try file.count(table))
            }
        }()
        let customerCount = try VaultFileInspector(base).count("customers")
        #expect(customerCount >= 100)
        var refused: [String] = [], inert: [String] = [], visible: [String] = []
        for (table, columns, rows) in schema {
            #expect(rows > 0, "the sweep's vault has rows in \(table)")
            for column in columns {
                // vault_meta holds one setting per row: each is a column of its own. Elsewhere the
                // edit targets one row that some principal reads.
                for edit in try VaultFileInspector(base).columnEdits(table, column: column) {
                    let label = edit.label
                    let copy = directory.path("edit.vault")
                    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) }
                    try FileManager.default.copyItem(atPath: base, toPath: copy)
                    // A different but plausible value (the same type, a nearby value), written with foreign keys off.
                    let edited = try VaultFileInspector(copy, foreignKeys: false).apply(edit)
                    guard edited else { Issue.record("\(label): no row to edit"); continue }
                    switch await Self.observe(copy, keys: keys, head: head) {
                    case .refused: refused.append(label)
                    case .view(let view) where view == baseline: inert.append(label)
                    case .view(let view):
                        let diff = zip(view.split(separator: "\n"), baseline.split(separator: "\n")).first { $0 != $1 }
                        visible.append("\(label): \(diff.map { "\($0.0) ≠ \($0.1)" } ?? String(view.prefix(200)))")
                    }
                }
            }
        }
        print("row-edit sweep: \(refused.count) edits refused, \(inert.count) without effect (\(inert.sorted().joined(separator: ", ")))")
        #expect(visible.isEmpty, "edits that changed what a principal sees without an integrity error:\n\(visible.joined(separator: "\n"))")
        #expect(Set(inert) == Self.inert, "columns without effect differ from the documented list: \(Set(inert).symmetricDifference(Self.inert).sorted())")
        #expect(refused.count >= 150, "\(refused.count) edits refused")
    }
}
