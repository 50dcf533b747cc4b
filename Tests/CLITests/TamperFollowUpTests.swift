import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

/// The second attack review of the issue #17 changes: variants of the first findings that went
/// around their fixes (a reader's session cache, records put back from an older copy of the file,
/// numbers at the end of their range). Each must end in a refusal with no plaintext.
@Suite("Attack review follow-ups (issue #17)")
struct TamperFollowUpTests {
    /// Starts a write session as `writer` (signed by its own key: a session it could start) for
    /// `field`, with a session key the attacker knows; returns its id and key.
    private func plantSession(_ fixture: TamperFixture, writer: CustomerVault, field: String) throws -> (Int64, SecretBytes) {
        let file = try fixture.file
        let publicKey = try #require(try file.value("public_key", in: "data_keys", where: ["field": .is(field), "purpose": "seal_public", "version": 1])?.bytes)
        let sessionKey = try SecretBytes(randomCount: 32)
        let sealed = try sessionKey.withUnsafeBytes { try SealedBox.seal($0, to: publicKey) }
        let id = try file.nextID(in: "write_sessions")
        let writerID = try #require(try file.value("id", in: "principals", where: ["name": .is(writer.principal)]))
        let signature = try Ed25519.sign(WriteSessions.message(vaultID: writer.vaultIDBytes, principal: writer.principal, id: id, field: field,
                                                               purpose: .seal, version: 1, sealedKey: sealed, policyHash: writer.policyHash),
                                         with: writer.secrets.signingKeyPair)
        try file.insert(into: "write_sessions", [
            "id": id, "principal_id": writerID, "field": field, "purpose": "seal", "key_version": 1, "sealed_key": sealed,
            "signature": signature, "created_at": "now", "format": 2, "policy_hash": writer.policyHash,
        ])
        return (id, sessionKey)
    }

    private func plantValue(_ fixture: TamperFixture, _ value: String, field: String, customer: Int64, session: (Int64, SecretBytes)) throws {
        let envelope = try FieldEnvelope.seal(value, key: session.1, keyVersion: 1, vaultID: fixture.admin.vaultIDBytes,
                                              slot: SealedSlot(entity: .customers, field: field, recordID: customer, view: .plain), session: session.0)
        let file = try fixture.file
        try file.delete(from: "sealed_values", where: ["entity": "customers", "record_id": .is(customer), "field": .is(field)])
        try file.insert(into: "sealed_values", ["entity": "customers", "record_id": customer, "field": field, "key_version": 1, "sealed": envelope])
        try fixture.recommit(customer: customer, as: fixture.admin)
    }

    @Test("a session a reader verified and cached for one field does not open a value of another field that names it")
    func cachedSessionIsBoundToItsField() async throws {
        let fixture = try await TamperFixture.make()
        let intake = try await fixture.open("intake")
        let session = try plantSession(fixture, writer: intake, field: "customers.email")
        // A value intake could have written: the reader verifies the session and caches its key.
        try plantValue(fixture, "cached.session@example.com", field: "email", customer: fixture.uk, session: session)
        let reader = try await fixture.open("admin")
        #expect(try await reader.customer(fixture.uk).fields["email"] == "cached.session@example.com")
        // The same session named by a value of another field, which the session was never for.
        try plantValue(fixture, "planted gender", field: "gender", customer: fixture.uk, session: session)
        let refused = await VaultError.caught { _ = try await reader.customer(fixture.uk) }
        #expect(refused?.code == .integrity && refused?.message.contains("another field") == true, "\(refused?.message ?? "no error")")
        // A fresh handle (no cache) refuses too.
        fixture.expectIntegrityFailure(try fixture.run(["customer", "get", String(fixture.uk)]), naming: "write session \(session.0)")
    }

    @Test("an erased customer whose rows are put back from an older copy of the file is found by verify")
    func erasedCustomerPutBack() async throws {
        let fixture = try await TamperFixture.make()
        let copy = fixture.workspace.path("before-erasure.vault")
        try await fixture.admin.checkpoint()
        try FileManager.default.copyItem(atPath: fixture.path, toPath: copy)
        #expect(try fixture.run(["customer", "erase", String(fixture.uk)], as: "dpo", purpose: "subject_request").status == 0)
        #expect(try fixture.run(["verify"]).status == 0, "a clean erasure verifies")
        // Every row of the person, each with its own valid tag, copied back from the older file.
        try fixture.file.putBackErasedCustomer(fixture.uk, from: copy)
        let verify = try fixture.run(["verify"])
        fixture.expectIntegrityFailure(verify, naming: "customers \(fixture.uk) (erased, in the ledger)")
    }

    @Test("the policy in force put back to an older root-signed one from the history is refused on open")
    func policyRolledBack() async throws {
        let fixture = try await TamperFixture.make()
        let older = try #require(try fixture.file.row("policy_history", columns: ["source", "signature"]))
        _ = try await fixture.admin.applyPolicy(yaml: Policy.defaultYAML + "\n# reviewed 2026-12-01\n", fileName: "tightened.yaml")
        #expect(try fixture.run(["customer", "list"], as: "marketing").status == 0)
        let file = try fixture.file
        // The source as bytes (it goes back as a blob, as the vault stores it).
        let source = try #require(older["source"].text.map { Data($0.utf8) } ?? older["source"].data)
        #expect(try file.update("vault_meta", set: ["value": source], where: ["name": "policy"]) == 1)
        #expect(try file.update("vault_meta", set: ["value": older["signature"]], where: ["name": "policy_signature"]) == 1)
        #expect(await VaultError.caught { _ = try await fixture.open("marketing") }?.code == .integrity)
        fixture.expectIntegrityFailure(try fixture.run(["customer", "list"], as: "marketing"), naming: "older policy put back")
    }

    @Test("a principal's record and grants put back to before its credential change are refused, and a custodian grants it nothing")
    func keyChainRolledBack() async throws {
        let fixture = try await TamperFixture.make()
        let oldCopy = fixture.workspace.path("old-copy.vault")
        try await fixture.admin.checkpoint()
        try FileManager.default.copyItem(atPath: fixture.path, toPath: oldCopy)
        let changed = try fixture.cli.run(["principal", "passwd", "--principal", "support", "--key-file", fixture.keyFile("support"),
                                           "--key-file-out", fixture.workspace.path("support-new.key")])
        #expect(changed.status == 0, "\(changed.stderr)")
        let oldBoxKey = try #require(try VaultFileInspector(oldCopy).value("box_public_key", in: "principals", where: ["name": "support"])?.data)
        // The old record (old keys, old certificate), its shorter key chain and its old grants.
        try fixture.file.putBackPrincipal("support", from: oldCopy)
        let refused = await VaultError.caught { _ = try await fixture.open("support", purpose: "support_ticket") }
        #expect(refused?.code == .integrity && refused?.message.contains("key version 2") == true, "\(refused?.message ?? "no error")")
        fixture.expectIntegrityFailure(try fixture.run(["customer", "list"], as: "support", purpose: "support_ticket"), naming: "put back from an older copy")
        // Its grants deleted too, so a custodian's next re-provisioning would seal fresh ones: it refuses
        // instead. Its write sessions (signed again by its new key) go as well, or their check would
        // refuse first and hide whether re-provisioning itself checks the key chain.
        let file = try fixture.file
        let supportID = try #require(try file.value("id", in: "principals", where: ["name": "support"]))
        try file.delete(from: "key_grants", where: ["principal_id": .is(supportID)])
        try file.delete(from: "write_sessions", where: ["principal_id": .is(supportID)])
        let apply = await VaultError.caught { _ = try await fixture.admin.applyPolicy(yaml: Policy.defaultYAML + "\n# again\n", fileName: "again.yaml") }
        #expect(apply?.code == .integrity && apply?.message.contains("key version 2") == true, "\(apply?.message ?? "applied")")
        let sealedToOld = try file.values("sealed_key", in: "key_grants", where: ["principal_id": .is(supportID)])
        #expect(sealedToOld.isEmpty, "\(sealedToOld.count) grants sealed to the put-back key \(oldBoxKey.count)-byte box key")
    }

    @Test("an access log whose newest entry claims the last sequence number stops writes with an integrity error, not a crash")
    func auditSequenceAtTheEnd() async throws {
        let fixture = try await TamperFixture.make()
        let file = try fixture.file
        let newest = try #require(try file.largest("seq", in: "audit_log"))
        #expect(try file.update("audit_log", set: ["seq": Int64.max], where: ["seq": .is(newest)]) == 1)
        let result = try fixture.run(["customer", "get", String(fixture.eu)])
        fixture.expectIntegrityFailure(result, naming: "sequence number \(Int64.max)")
        #expect(try fixture.cli.run(["audit", "verify"]).status == 6)
    }

    @Test("behaviour counters stop at their maximum through the CLI, and a counter edited past it in the file is refused")
    func behaviourBounds() async throws {
        let fixture = try await TamperFixture.make()
        let id = String(fixture.eu)
        #expect(try fixture.run(["customer", "behaviour", id, "--browse", String(BehaviourCounters.maximum)]).status == 0)
        let over = try fixture.run(["customer", "behaviour", id, "--browse", "1"])
        #expect(over.status == 2 && over.stderr.contains("would exceed \(BehaviourCounters.maximum)"), "\(over.stderr)")
        for huge in [String(Int64.max), String(Int64.min)] {
            let refused = try fixture.run(["customer", "behaviour", id, "--purchase=\(huge)"])
            #expect(refused.status == 2 && refused.stderr.contains("at most \(BehaviourCounters.maximum)"), "\(huge): \(refused.stderr)")
        }
        let shown = try fixture.run(["customer", "behaviour", id, "--json"])
        #expect(shown.status == 0 && shown.stdout.contains("\"browse\":\(BehaviourCounters.maximum)"), "\(shown.stdout)")
        #expect(try fixture.file.update("behaviour", set: ["browse_count": Int64.max], where: ["customer_id": .is(fixture.eu)]) == 1)
        fixture.expectIntegrityFailure(try fixture.run(["customer", "behaviour", id]), naming: "behaviour of customer \(id)")
    }
}
