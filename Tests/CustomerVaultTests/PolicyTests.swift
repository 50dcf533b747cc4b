import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

@Suite("Policies", .serialized)
struct PolicyTests {
    static let shippedFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../policies/default.yaml")

    @Test("the embedded default policy is policies/default.yaml, byte for byte, and defines the eight shipped roles")
    func shippedPolicy() throws {
        let shipped = try String(contentsOf: Self.shippedFile, encoding: .utf8)
        #expect(shipped.trimmingCharacters(in: .newlines) == Policy.defaultYAML.trimmingCharacters(in: .newlines))
        let policy = try Policy.shippedDefault(schema: Fixtures.schema())
        #expect(Set(policy.roles.keys) == ["admin", "support", "marketing", "analyst", "auditor", "intake", "dpo", "backup_operator"])
        #expect(policy.role("backup_operator").map { role in VaultAction.allCases.filter { role.allows($0) } } == [.backup])
        #expect(policy.role("admin")?.isKeyCustodian == true)
        #expect(policy.roles.values.filter(\.isKeyCustodian).count == 1)
    }

    @Test("an explicit deny wins over a wildcard allow, and the refusal names the rule")
    func denyWins() throws {
        let schema = try Fixtures.schema()
        let policy = try Policy.shippedDefault(schema: schema)
        let point = PolicyDecisionPoint(policy: policy, schema: schema)
        let admin = PrincipalContext(name: "a", role: "admin", attributes: [:])
        #expect(point.decide(AccessRequest(.customerDelete), for: admin).allowed)
        let erase = point.decide(AccessRequest(.subjectErase), for: admin)
        #expect(!erase.allowed)
        #expect(erase.rule.contains("explicitly denies subject.erase"))
        let unknownRole = point.decide(AccessRequest(.customerRead), for: PrincipalContext(name: "x", role: "ghost", attributes: [:]))
        #expect(!unknownRole.allowed && unknownRole.rule.contains("not defined"))
    }

    @Test("problems in several roles are all reported, each with its line")
    func collectsProblems() throws {
        let yaml = """
            format: 1
            roles:
              one:
                allow: [customer.rede]
              two:
                allow: [customer.read]
                fields:
                  customers.region: { view: plain }
              three:
                allow: [customer.read]
            """
        let error = #expect(throws: VaultError.self) { try Policy.load(yaml: yaml, schema: Fixtures.schema(), fileName: "p.yaml") }
        let lines = error?.message.split(separator: "\n") ?? []
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("p.yaml:4: role one: unknown action 'customer.rede'") == true)
        #expect(lines.last?.hasPrefix("p.yaml:8: role two: customers.region is a plain attribute") == true)
    }

    @Test("policy apply re-provisions keyrings to match, and reports what changed")
    func applyReprovisions() async throws {
        let fixture = try await RoleFixture.make()
        let stricter = Policy.defaultYAML.replacingOccurrences(of: "customers.address: { view: masked, write: true }",
                                                               with: "customers.address: { view: none }")
        #expect(stricter != Policy.defaultYAML)
        let changes = try await fixture.admin.applyPolicy(yaml: stricter, fileName: "stricter.yaml")
        let support = try #require(changes.first { $0.principal == "support" })
        #expect(support.removed == 2 && support.added == 0, "address mask and seal_public keys removed")
        #expect(changes.filter { $0.principal != "support" }.allSatisfy { $0.added == 0 && $0.removed == 0 })
        let agent = try await fixture.open("support", purpose: "support_ticket")
        #expect(!agent.keyring.scopes.contains { $0.field == "customers.address" })
        #expect(try await agent.customer(fixture.euID).fields["address"] == nil)
        #expect(await VaultError.caught { try await agent.updateCustomer(fixture.euID, set: ["address": "2 Road"]) }?.code == .accessDenied)
        // Applying the shipped policy again restores the masked view.
        _ = try await fixture.admin.applyPolicy(yaml: Policy.defaultYAML, fileName: "default.yaml")
        let restored = try await fixture.open("support", purpose: "support_ticket")
        #expect(try await restored.customer(fixture.euID).fields["address"] == RoleFixture.canaryMasked["address"])
    }

    @Test("a policy that drops a role some principal has changes nothing")
    func applyIsAllOrNothing() async throws {
        let fixture = try await RoleFixture.make()
        let start = Policy.defaultYAML.range(of: "  analyst:")!.lowerBound, end = Policy.defaultYAML.range(of: "  auditor:")!.lowerBound
        var withoutAnalyst = Policy.defaultYAML
        withoutAnalyst.removeSubrange(start..<end)
        let error = await VaultError.caught { _ = try await fixture.admin.applyPolicy(yaml: withoutAnalyst, fileName: "x.yaml") }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("analyst") == true)
        #expect(try await CustomerVault.storedPolicy(at: fixture.path).policy.source == Policy.defaultYAML)
        // Only a key custodian applies policies.
        let support = try await fixture.open("support")
        #expect(await VaultError.caught { _ = try await support.applyPolicy(yaml: Policy.defaultYAML, fileName: "x") }?.code == .accessDenied)
    }

    @Test("disabling a principal deletes its keyring; its credential then unlocks nothing")
    func disable() async throws {
        let fixture = try await RoleFixture.make()
        let key = try fixture.writeKeyFile("analyst")
        try await fixture.admin.disablePrincipal("analyst")
        let file = try VaultFileInspector(fixture.path)
        let analystID = try #require(try file.value("id", in: "principals", where: ["name": "analyst"]))
        let grants = try file.count("key_grants", where: ["principal_id": .is(analystID)])
        #expect(grants == 0)
        let error = await VaultError.caught { _ = try await CustomerVault.open(at: fixture.path, principal: "analyst", credential: .keyFile(at: key)) }
        #expect(error?.code == .accessDenied)
        #expect(try await fixture.admin.listPrincipals().first { $0.name == "analyst" }?.disabled == true)
    }

    @Test("a principal changes its own credential; the old one stops working")
    func changeCredential() async throws {
        let fixture = try await RoleFixture.make()
        let oldKey = try Credential.keyFile(at: try fixture.writeKeyFile("auditor"))
        let auditor = try await fixture.open("auditor")
        try await auditor.changeCredential(to: .passphrase("a new passphrase for the auditor"))
        #expect(await VaultError.caught { _ = try await CustomerVault.open(at: fixture.path, principal: "auditor", credential: oldKey) }?.code == .badCredential)
        let reopened = try await CustomerVault.open(at: fixture.path, principal: "auditor", credential: .passphrase("a new passphrase for the auditor"))
        #expect(try await reopened.auditLog().isEmpty == false)
    }

    @Test("editing a principal's role, the stored policy or a write session in the file is detected",
          arguments: VaultFileInspector.AuthorisationEdit.allCases)
    func tamperedAuthorisation(edit: VaultFileInspector.AuthorisationEdit) async throws {
        let fixture = try await RoleFixture.make()
        let changed = try VaultFileInspector(fixture.path).apply(edit)
        #expect(changed == 1)
        let error = await VaultError.caught { _ = try await fixture.open("support") }
        #expect(error?.code == .integrity, "\(error?.message ?? "opened")")
    }

    @Test("a write session whose key was swapped, re-signed by no one, or moved to another field is refused on read",
          arguments: VaultFileInspector.SessionEdit.allCases)
    func tamperedSession(edit: VaultFileInspector.SessionEdit) async throws {
        let fixture = try await RoleFixture.make()
        let intake = try await fixture.open("intake")
        let id = try await intake.addCustomer(Fixtures.customer(77))
        try VaultFileInspector(fixture.path).apply(edit)
        let reader = try await CustomerVault.open(at: fixture.path, principal: "admin", credential: .keyFile(at: try fixture.adminKeyFile()))
        let error = await VaultError.caught { _ = try await reader.customer(id) }
        #expect(error?.code == .integrity, "\(error?.message ?? "read")")
    }
}
