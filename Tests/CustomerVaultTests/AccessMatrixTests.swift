import Foundation
import Testing
@testable import CustomerVault

/// Role × action × field over the shipped policy. The expected cells are written out here by hand
/// from policies/default.yaml, so the decision point is checked against an independent oracle.
@Suite("Access matrix (shipped policy)", .serialized)
struct AccessMatrixTests {
    /// Actions each role may perform (with the purpose named in `purposes` where one is required).
    static let allowed: [String: Set<String>] = [
        "admin": ["customer.create", "customer.read", "customer.search", "customer.list", "customer.update", "customer.delete",
                  "transaction.read", "transaction.write", "interaction.read", "interaction.write", "behaviour.read",
                  "behaviour.write", "import", "export", "report.aggregate", "audit.read", "principals.manage"],
        "support": ["customer.read", "customer.search", "customer.list", "customer.update", "transaction.read", "interaction.read",
                    "interaction.write", "behaviour.read", "export"],
        "marketing": ["customer.list", "export", "report.aggregate"],
        "analyst": ["report.aggregate"],
        "auditor": ["audit.read"],
        "intake": ["customer.create", "interaction.write", "import"],
        "dpo": ["customer.read", "customer.search", "audit.read"],
    ]
    static let purposes: [String: [String: String]] = [
        "support": ["customer.read": "support_ticket", "customer.search": "support_ticket", "customer.list": "support_ticket",
                    "export": "fraud_investigation"],
        "dpo": ["customer.read": "subject_request", "customer.search": "subject_request"],
    ]
    /// Personal customer fields each role may write (through customer.update / create).
    static let writable: [String: Set<String>] = [
        "admin": ["name", "email", "phone", "address", "age", "birth_date", "gender"],
        "support": ["name", "email", "phone", "address"],
        "intake": ["name", "email", "phone", "address", "age", "birth_date", "gender"],
    ]
    static let searchable: [String: Set<String>] = [
        "admin": ["name", "email", "phone"], "support": ["name", "email", "phone"], "dpo": ["name", "email", "phone"],
    ]
    static let personalFields = ["name", "email", "phone", "address", "age", "birth_date", "gender"]

    /// One library call per action; returns the customer records it read, if any.
    static func call(_ action: String, vault: CustomerVault, fixture: RoleFixture, spare: Int64) async throws -> [CustomerRecord] {
        switch action {
        case "customer.create":
            var values = Fixtures.customer(Int(spare) + 700)
            values["email"] = "created\(spare)@example.com"
            _ = try await vault.addCustomer(values)
        case "customer.read": return [try await vault.customer(fixture.euID)]
        case "customer.search": return try await vault.findCustomers(field: "email", equalTo: RoleFixture.canary["email"]!)
        case "customer.list": return try await vault.listCustomers().filter { $0.id == fixture.euID }
        case "customer.update": try await vault.updateCustomer(fixture.euID, set: ["phone": RoleFixture.canary["phone"]!])
        case "customer.delete": try await vault.deleteCustomer(spare)
        case "transaction.read": _ = try await vault.history(.transactions, customerID: fixture.euID)
        case "transaction.write":
            _ = try await vault.addHistory(.transactions, customerID: fixture.euID, values: [
                "order_id": "M-\(spare)", "order_time": "2026-03-04T05:06:07Z", "payment_method": "cash", "amount": "1"])
        case "interaction.read": _ = try await vault.history(.interactions, customerID: fixture.euID)
        case "interaction.write":
            _ = try await vault.addHistory(.interactions, customerID: fixture.euID, values: [
                "occurred_at": "2026-03-04T05:06:07Z", "channel": "email", "summary": "matrix note"])
        case "behaviour.read": _ = try await vault.behaviour(customerID: fixture.euID)
        case "behaviour.write": _ = try await vault.recordBehaviour(customerID: fixture.euID, adding: BehaviourCounters(browse: 1))
        case "import":
            let file = try fixture.directory.write("import-\(spare).csv", "name,email,region\nImported \(spare),imported\(spare)@example.com,EU\n")
            _ = try await vault.importCSV(.customers, from: file)
        case "export":
            var text = ""
            _ = try await vault.exportCustomers(format: .jsonl) { text += String(decoding: $0, as: UTF8.self) }
            // Each line a flat object: id, the fields the role sees (null when it sees none), times, masked.
            return try text.split(separator: "\n").compactMap { line -> CustomerRecord? in
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                guard let id = object["id"] as? Int, Int64(id) == fixture.euID else { return nil }
                var fields: [String: String] = [:]
                for (key, value) in object where !["id", "created_at", "updated_at", "masked"].contains(key) {
                    if let text = value as? String { fields[key] = text } else if let number = value as? NSNumber, !(value is NSNull) { fields[key] = number.stringValue }
                }
                return CustomerRecord(id: Int64(id), fields: fields, masked: (object["masked"] as? [String] ?? []).sorted(),
                                      createdAt: object["created_at"] as? String ?? "", updatedAt: object["updated_at"] as? String ?? "")
            }
        case "report.aggregate": _ = try await vault.aggregateReport()
        case "audit.read": _ = try await vault.auditLog()
        case "principals.manage": _ = try await vault.listPrincipals()
        default: Issue.record("no call for \(action)")
        }
        return []
    }

    static let actions = ["customer.create", "customer.read", "customer.search", "customer.list", "customer.update", "customer.delete",
                          "transaction.read", "transaction.write", "interaction.read", "interaction.write", "behaviour.read",
                          "behaviour.write", "import", "export", "report.aggregate", "audit.read", "principals.manage"]

    @Test("every role × action cell: allowed cells work and show exactly the granted views, denied cells are typed refusals without personal data",
          arguments: RoleFixture.roles)
    func roleByAction(role: String) async throws {
        let fixture = try await RoleFixture.make()
        for action in Self.actions {
            let spare = try await fixture.admin.addCustomer(Fixtures.customer(Int.random(in: 20_000...900_000), region: "EU"))
            let vault = try await fixture.open(role, purpose: Self.purposes[role]?[action])
            let expectAllowed = Self.allowed[role]!.contains(action)
            do {
                let records = try await Self.call(action, vault: vault, fixture: fixture, spare: spare)
                #expect(expectAllowed, "\(role) was allowed \(action)")
                for record in records { Self.checkViews(record, role: role, action: action) }
                if ["customer.read", "customer.search", "customer.list", "export"].contains(action) {
                    #expect(records.count == 1, "\(role) \(action) returned the canary customer")
                }
            } catch let error as VaultError {
                #expect(!expectAllowed, "\(role) was refused \(action): \(error.code)")
                #expect(error.code == .accessDenied, "\(role) \(action): \(error.code)")
                #expect(error.message.contains(action), "the refusal names the missing grant")
                #expect(!RoleFixture.canaryFragments.contains { error.message.contains($0) })
            }
        }
    }

    static func checkViews(_ record: CustomerRecord, role: String, action: String) {
        for field in personalFields {
            switch KeyEnforcementTests.view(role, "customers.\(field)") {
            case .plain:
                #expect(record.fields[field] == RoleFixture.canaryStored[field], "\(role) \(action) \(field) plain")
                #expect(!record.masked.contains(field))
            case .masked:
                #expect(record.fields[field] == RoleFixture.canaryMasked[field], "\(role) \(action) \(field) masked")
                #expect(record.masked.contains(field))
            case .none:
                #expect(record.fields[field] == nil, "\(role) \(action) \(field) hidden")
            }
        }
        #expect(record.fields["region"] == "EU", "plain attributes are visible with any read")
    }

    @Test("every role × field write cell: only granted fields can be written", arguments: RoleFixture.roles)
    func roleByFieldWrite(role: String) async throws {
        let fixture = try await RoleFixture.make()
        let vault = try await fixture.open(role)
        let updates = ["name": "Newname Person", "email": "new.\(role)@example.com", "phone": "+44 20 7946 0555",
                       "address": "1 New Road", "age": "50", "birth_date": "1976-01-01", "gender": "other"]
        for field in Self.personalFields {
            let error = await VaultError.caught { try await vault.updateCustomer(fixture.euID, set: [field: updates[field]!]) }
            let mayUpdate = Self.allowed[role]!.contains("customer.update") && Self.writable[role]?.contains(field) == true
            #expect((error == nil) == mayUpdate, "\(role) writing \(field): \(error?.message ?? "ok")")
            if let error {
                #expect(error.code == .accessDenied)
                #expect(!RoleFixture.canaryFragments.contains { error.message.contains($0) })
            }
        }
        // What was written is what the admin now reads, including fields the writer cannot see.
        let stored = try await fixture.admin.customer(fixture.euID)
        for field in Self.personalFields where Self.allowed[role]!.contains("customer.update") && Self.writable[role]?.contains(field) == true {
            let expected = field == "phone" ? "+442079460555" : updates[field]!
            #expect(stored.fields[field] == expected, "\(role) wrote \(field)")
        }
    }

    @Test("every role × field search cell: only granted fields can be searched by", arguments: RoleFixture.roles)
    func roleByFieldSearch(role: String) async throws {
        let fixture = try await RoleFixture.make()
        let purpose = Self.purposes[role]?["customer.search"]
        let vault = try await fixture.open(role, purpose: purpose)
        for field in ["name", "email", "phone"] {
            let found = try? await vault.findCustomers(field: field, equalTo: RoleFixture.canary[field]!)
            let maySearch = Self.allowed[role]!.contains("customer.search") && Self.searchable[role]?.contains(field) == true
            #expect((found != nil) == maySearch, "\(role) searching by \(field)")
            if let found { #expect(found.map(\.id) == [fixture.euID]) }
        }
    }

    @Test("interaction notes (free text) are visible only to roles granted them")
    func interactionSummaryViews() async throws {
        let fixture = try await RoleFixture.make()
        let admin = try await fixture.admin.history(.interactions, customerID: fixture.euID)
        #expect(admin.first?.fields["summary"] == RoleFixture.interactionSummary)
        let support = try await fixture.open("support").history(.interactions, customerID: fixture.euID)
        #expect(support.count == 1)
        #expect(support.first?.fields["summary"] == nil)
        #expect(support.first?.fields["channel"] == "phone")
    }
}
