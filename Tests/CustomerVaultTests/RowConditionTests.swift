import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault

@Suite("Row conditions and purposes", .serialized)
struct RowConditionTests {
    /// A vault with EU and non-EU customers and an EU-only support agent.
    static func regional() async throws -> (RoleFixture, eu: [Int64], other: [Int64]) {
        let fixture = try await RoleFixture.make()
        var eu = [fixture.euID], other = [fixture.ukID]
        for n in 1...12 {
            let region = ["EU", "UK", "US", "APAC"][n % 4]
            let id = try await fixture.admin.addCustomer(Fixtures.customer(300 + n, region: region))
            if region == "EU" { eu.append(id) } else { other.append(id) }
        }
        return (fixture, eu, other)
    }

    @Test("an EU-only support agent finds EU customers and gets 'not found' for the others: search, list, get, export")
    func euOnlyAgent() async throws {
        let (fixture, eu, other) = try await Self.regional()
        let agent = try await fixture.open("support", purpose: "support_ticket")

        // get: EU customers open; the others are "not found", worded exactly like a missing id.
        for id in eu { #expect(try await agent.customer(id).fields["region"] == "EU") }
        let missing = await VaultError.caught { _ = try await agent.customer(999_999) }
        for id in other {
            let error = await VaultError.caught { _ = try await agent.customer(id) }
            #expect(error?.code == .notFound)
            #expect(error?.message == missing?.message.replacingOccurrences(of: "999999", with: String(id)))
        }
        // list: exactly the EU customers, paging included.
        var listed: [Int64] = []
        var after: Int64 = 0
        while true {
            let page = try await agent.listCustomers(limit: 3, after: after)
            guard let last = page.last else { break }
            listed += page.map(\.id)
            after = last.id
        }
        #expect(listed == eu.sorted())
        // search: by e-mail and by name, non-EU matches are invisible.
        for n in 1...12 {
            let values = Fixtures.customer(300 + n)
            let byEmail = try await agent.findCustomers(field: "email", equalTo: values["email"]!).map(\.id)
            let byName = try await agent.findCustomers(field: "name", equalTo: values["name"]!).map(\.id)
            let expected = eu.contains(where: { id in byEmail.contains(id) }) ? byEmail : []
            #expect(byEmail.allSatisfy(eu.contains) && byName.allSatisfy(eu.contains))
            #expect(byEmail == expected)
        }
        let adminFound = try await fixture.admin.findCustomers(field: "email", equalTo: Fixtures.customer(301)["email"]!)
        #expect(adminFound.count == 1, "the admin sees what the agent does not")
        // export: only EU rows.
        let exporter = try await fixture.open("support", purpose: "fraud_investigation")
        var text = ""
        let count = try await exporter.exportCustomers(format: .jsonl) { text += String(decoding: $0, as: UTF8.self) }
        let exported = try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["id"] as? Int }
            .map { $0.map(Int64.init) }
        #expect(count == eu.count && exported == eu.sorted().map(Optional.init))
        // history and writes on hidden customers are "not found" too.
        #expect(await VaultError.caught { _ = try await agent.history(.interactions, customerID: other[0]) }?.code == .notFound)
        #expect(await VaultError.caught { try await agent.updateCustomer(other[0], set: ["name": "X Y"]) }?.code == .notFound)
        // and an agent cannot move a customer out of its own rows.
        #expect(await VaultError.caught { try await agent.updateCustomer(eu[0], set: ["region": "US"]) }?.code == .accessDenied)
        #expect(try await fixture.admin.customer(eu[0]).fields["region"] == "EU")
    }

    @Test("a principal without the attribute a row condition needs sees no rows (fail closed)")
    func missingAttributeFailsClosed() async throws {
        let fixture = try await RoleFixture.make()
        let key = try SecretBytes(randomCount: 32)
        _ = try await fixture.admin.addPrincipal("noregions", role: "support", credential: .keyFile(key))
        let agent = try await CustomerVault.open(at: fixture.path, principal: "noregions", credential: .keyFile(key))
            .withPurpose("support_ticket")
        #expect(try await agent.listCustomers().isEmpty)
        #expect(await VaultError.caught { _ = try await agent.customer(fixture.euID) }?.code == .notFound)
    }

    @Test("marketing sees e-mails of consenting customers only")
    func marketingConsent() async throws {
        let fixture = try await RoleFixture.make()
        let marketing = try await fixture.open("marketing")
        let listed = try await marketing.listCustomers()
        #expect(listed.map(\.id) == [fixture.euID])
        #expect(listed.first?.fields["email"] == RoleFixture.canaryStored["email"])
        #expect(listed.first?.fields["name"] == nil)
        #expect(try await marketing.aggregateReport().customers == 1)
    }

    @Test("a plain read without a required purpose is denied naming the purposes; with one it is allowed and logged")
    func purposes() async throws {
        let fixture = try await RoleFixture.make()
        let agent = try await fixture.open("support")
        let error = await VaultError.caught { _ = try await agent.customer(fixture.euID) }
        #expect(error?.code == .accessDenied)
        #expect(error?.message.contains("support_ticket") == true && error?.message.contains("fraud_investigation") == true)
        // A purpose the policy defines but this grant does not accept.
        let wrong = try agent.withPurpose("legal_request")
        #expect(await VaultError.caught { _ = try await wrong.customer(fixture.euID) }?.code == .accessDenied)
        // An undefined purpose is refused before any request.
        #expect(throws: VaultError.self) { _ = try agent.withPurpose("curiosity") }
        let right = try agent.withPurpose("support_ticket", reason: "ticket 4711")
        #expect(try await right.customer(fixture.euID).fields["email"] == RoleFixture.canaryStored["email"])

        let log = try await fixture.admin.auditLog(limit: 10_000).filter { $0.principal == "support" && $0.action == "customer.read" }
        #expect(log.map(\.outcome) == ["denied", "denied", "allowed"])
        #expect(log.last?.purpose == "support_ticket")
        #expect(log.last?.reason == "ticket 4711")
        #expect(log.first?.purpose == nil)
    }
}
