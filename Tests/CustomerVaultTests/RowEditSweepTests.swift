import Foundation
import GRDB
import Testing
import VaultCrypto
@testable import CustomerVault

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
        "vault_meta.value[created_at]", "sqlite_sequence.seq", "sqlite_sequence.name",
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

    /// A different but plausible value for a column (the same type, a nearby value).
    static func changed(_ value: DatabaseValue, table: String, column: String) -> DatabaseValue {
        switch value.storage {
        case .null: return column.hasSuffix("_at") || column == "purpose" ? "2026-06-06T06:06:06Z".databaseValue : Data([1, 2, 3]).databaseValue
        case .int64(let n): return (n == 0 ? 1 : n == 1 ? 0 : n + 1).databaseValue
        case .double(let d): return (d + 1).databaseValue
        case .string(let text):
            for (from, to) in [("\"EU\"", "\"UK\""), ("\"UK\"", "\"EU\""), ("true", "false"), ("false", "true"), ("2026-", "2025-"), ("customers", "transactions")]
            where text.contains(from) {
                return text.replacingOccurrences(of: from, with: to).databaseValue
            }
            return (text + "x").databaseValue
        case .blob(let data):
            guard !data.isEmpty else { return Data([0]).databaseValue }
            var bytes = [UInt8](data)
            bytes[bytes.count - 1] ^= 0x01
            return Data(bytes).databaseValue
        }
    }

    /// The row of each table an edit targets: one that some principal reads.
    static func target(_ table: String, db: Database) throws -> String {
        switch table {
        case "customers": return "id = (SELECT min(id) FROM customers)"
        case "sealed_values": return "entity = 'customers' AND record_id = (SELECT min(id) FROM customers) AND field = 'phone'"
        case "transactions", "interactions": return "id = (SELECT min(id) FROM \(table))"
        case "blind_indexes": return "customer_id = (SELECT min(id) FROM customers) AND field = 'phone'"
        case "unique_indexes": return "customer_id = (SELECT min(id) FROM customers)"
        case "behaviour": return "customer_id = (SELECT min(customer_id) FROM behaviour)"
        case "consent_events": return "id = (SELECT max(id) FROM consent_events)"
        case "principals": return "name = 'marketing'"
        case "principal_keys": return "principal_id = (SELECT id FROM principals WHERE name = 'marketing') AND version = 2"
        case "key_grants": return "principal_id = (SELECT id FROM principals WHERE name = 'support') AND key_id = (SELECT min(key_id) FROM key_grants)"
        case "data_keys": return "id = (SELECT id FROM data_keys WHERE field = 'customers.email' AND purpose = 'seal' AND retired_at IS NULL)"
        case "write_sessions": return "id = (SELECT min(id) FROM write_sessions)"
        case "audit_log": return "seq = (SELECT max(seq) / 2 FROM audit_log)"
        case "policy_history": return "hash = (SELECT hash FROM policy_history ORDER BY stored_at LIMIT 1)"
        case "key_rotations", "erasure_ledger": return "rowid = (SELECT min(rowid) FROM \(table))"
        case "grdb_migrations": return "identifier = 'v8-integrity'"
        case "imports": return "file_digest = (SELECT min(file_digest) FROM imports)"
        case "import_rejects": return "record = (SELECT min(record) FROM import_rejects)"
        case "sqlite_sequence": return "name = 'customers'"
        case "natural_keys": return "entity = 'transactions' AND record_id = (SELECT min(id) FROM transactions)"
        default: return "rowid = (SELECT min(rowid) FROM \(table))"
        }
    }

    @Test("every column of every table: a changed value is refused as an integrity error or changes nothing a principal sees")
    func sweep() async throws {
        let directory = try TemporaryDirectory()
        let (base, keys) = try await Self.make(in: directory)
        let head = try await DatabaseQueue(path: base).read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM audit_log") ?? 0 }
        guard case .view(let baseline) = await Self.observe(base, keys: keys, head: head) else {
            Issue.record("the untouched vault does not verify")
            return
        }
        let schema = try await DatabaseQueue(path: base).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_stat1' ORDER BY name").map { table in
                (table, try db.columns(in: table).map(\.name), try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0)
            }
        }
        let customerCount = try await DatabaseQueue(path: base).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM customers") ?? 0 }
        #expect(customerCount >= 100)
        var refused: [String] = [], inert: [String] = [], visible: [String] = []
        for (table, columns, rows) in schema {
            #expect(rows > 0, "the sweep's vault has rows in \(table)")
            for column in columns {
                // vault_meta holds one setting per row: each is a column of its own.
                let cases: [(label: String, condition: String)] = table == "vault_meta"
                    ? try await DatabaseQueue(path: base).read { db in
                        try String.fetchAll(db, sql: "SELECT name FROM vault_meta ORDER BY name").map { ("vault_meta.\(column)[\($0)]", "name = '\($0)'") }
                    }
                    : [("\(table).\(column)", try await DatabaseQueue(path: base).read { try Self.target(table, db: $0) })]
                for (label, condition) in cases {
                    let copy = directory.path("edit.vault")
                    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) }
                    try FileManager.default.copyItem(atPath: base, toPath: copy)
                    var config = Configuration()
                    config.foreignKeysEnabled = false
                    let edited = try await DatabaseQueue(path: copy, configuration: config).write { db -> Bool in
                        guard let value = try DatabaseValue.fetchOne(db, sql: "SELECT \(column) FROM \(table) WHERE \(condition) LIMIT 1") else { return false }
                        do {
                            try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE \(condition)", arguments: [Self.changed(value, table: table, column: column)])
                        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                            // A key taken by another row: a value nobody uses instead.
                            let unused: DatabaseValue = switch value.storage {
                            case .int64(let n): (n + 1_000_000).databaseValue
                            default: "planted-\(column)".databaseValue
                            }
                            try db.execute(sql: "UPDATE \(table) SET \(column) = ? WHERE \(condition)", arguments: [unused])
                        }
                        return db.changesCount > 0
                    }
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
