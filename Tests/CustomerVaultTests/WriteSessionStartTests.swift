import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

/// Write sessions start with a handle's first request that may write, in its transaction: a
/// write-only principal that only reads writes nothing for them (a lookup commits only its
/// access-log entry), and what it writes after a rotation is sealed under new sessions.
@Suite("Write sessions start with the first write")
struct WriteSessionStartTests {
    @Test("a support handle that only reads starts no session; its first update starts them once; a rotation starts new ones")
    func sessionsStartWithTheFirstWrite() async throws {
        let directory = try TemporaryDirectory()
        let admin = try await Fixtures.vault(in: directory)
        let id = try await admin.customers.add(Fixtures.customer(1))
        let key = try SecretBytes(randomCount: 32)
        _ = try await admin.principals.add("agent", role: "support", attributes: ["regions": "EU"], credential: .keyFile(key))
        func sessions() throws -> Int { try VaultFileInspector(admin.path).count("write_sessions") }
        func auditEntries() throws -> Int { try VaultFileInspector(admin.path).count("audit_log") }

        let agent = try await CustomerVault.open(at: admin.path, principal: "agent", credential: .keyFile(key))
            .withPurpose("support_ticket")
        #expect(try sessions() == 0, "opening started sessions")
        let before = try auditEntries()
        _ = try await agent.customers.get(id)
        _ = try await agent.customers.find(field: "email", equalTo: "person1@example.com")
        _ = try await agent.history.records(.interactions, customerID: id)
        #expect(try sessions() == 0, "reads started sessions")
        #expect(try auditEntries() == before + 3, "each read commits its access-log entry")

        // The first write starts one session per write-only field and view (address's sealed
        // view; the interactions' fields), in its own transaction; later writes reuse them.
        try await agent.customers.update(id, set: ["address": "2 Low Road, Leeds"])
        let started = try sessions()
        #expect(started > 0, "the first write started no session")
        _ = try await agent.history.add(.interactions, customerID: id, values: [
            "occurred_at": "2026-01-01T00:00:00Z", "channel": "email", "summary": "Asked about delivery"])
        try await agent.customers.update(id, set: ["address": "3 Low Road, Leeds"])
        #expect(try sessions() == started, "later writes started more sessions")
        #expect(try await admin.customers.get(id).fields["address"] == "3 Low Road, Leeds")
        #expect(try await admin.history.records(.interactions, customerID: id).first?.fields["summary"] == "Asked about delivery")

        // After a rotation (by another handle) the agent's next read starts nothing, and its next
        // write seals under new sessions of the new keys, which readers open.
        _ = try await admin.keys.rotate()
        _ = try await agent.customers.get(id)
        #expect(try sessions() == started, "a read after the rotation started sessions")
        try await agent.customers.update(id, set: ["address": "4 Low Road, Leeds"])
        #expect(try sessions() > started, "the write after the rotation reused the old keys' sessions")
        #expect(try await admin.customers.get(id).fields["address"] == "4 Low Road, Leeds")
        _ = try await admin.integrity.verify()
        try agent.close()
    }

    @Test("sessions started in a transaction that rolls back are never used")
    func rolledBackSessionsAreDropped() async throws {
        let directory = try TemporaryDirectory()
        let admin = try await Fixtures.vault(in: directory)
        let id = try await admin.customers.add(Fixtures.customer(1))
        let key = try SecretBytes(randomCount: 32)
        _ = try await admin.principals.add("agent", role: "support", attributes: ["regions": "EU"], credential: .keyFile(key))
        let agent = try await CustomerVault.open(at: admin.path, principal: "agent", credential: .keyFile(key))
        // A write that fails inside its transaction (no such customer) rolls its sessions back.
        let error = await VaultError.caught { try await agent.customers.update(id + 1_000, set: ["address": "9 Nowhere"]) }
        #expect(error?.code == .notFound)
        #expect(try VaultFileInspector(admin.path).count("write_sessions") == 0)
        // The next write starts sessions that exist in the file, so a reader opens its value.
        try await agent.customers.update(id, set: ["address": "5 Low Road, Leeds"])
        #expect(try VaultFileInspector(admin.path).count("write_sessions") > 0)
        #expect(try await admin.customers.get(id).fields["address"] == "5 Low Road, Leeds")
        try agent.close()
    }
}
