import Foundation
import GRDB
import Testing
import VaultCrypto
@testable import CustomerVault

/// The second attack review of the issue #17 changes: variants of the first findings that went
/// around their fixes (a reader's session cache, records put back from an older copy of the file,
/// numbers at the end of their range). Each must end in a refusal with no plaintext.
@Suite("Attack review follow-ups (issue #17)")
struct TamperFollowUpTests {
    /// Starts a write session as `writer` (signed by its own key: a session it could start) for
    /// `field`, with a session key the attacker knows; returns its id and key.
    private func plantSession(_ fixture: TamperFixture, writer: CustomerVault, field: String) throws -> (Int64, SecretBytes) {
        let publicKey = try #require(try fixture.raw { db in
            try Data.fetchOne(db, sql: "SELECT public_key FROM data_keys WHERE field = ? AND purpose = 'seal_public' AND version = 1", arguments: [field])
        })
        let sessionKey = try SecretBytes(randomCount: 32)
        let sealed = try sessionKey.withUnsafeBytes { try SealedBox.seal($0, to: [UInt8](publicKey)) }
        let id = try fixture.raw { db in
            let id = (try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM write_sessions")) ?? 1
            let signature = try Ed25519.sign(WriteSessions.message(vaultID: writer.vaultIDBytes, principal: writer.principal, id: id, field: field,
                                                                   purpose: .seal, version: 1, sealedKey: sealed, policyHash: writer.policyHash),
                                             with: writer.secrets.signingKeyPair)
            try db.execute(sql: """
                INSERT INTO write_sessions (id, principal_id, field, purpose, key_version, sealed_key, signature, created_at, format, policy_hash)
                VALUES (?, (SELECT id FROM principals WHERE name = ?), ?, 'seal', 1, ?, ?, 'now', 2, ?)
                """, arguments: [id, writer.principal, field, Data(sealed), Data(signature), writer.policyHash])
            return id
        }
        return (id, sessionKey)
    }

    private func plantValue(_ fixture: TamperFixture, _ value: String, field: String, customer: Int64, session: (Int64, SecretBytes)) throws {
        let envelope = try FieldEnvelope.seal(value, key: session.1, keyVersion: 1, vaultID: fixture.admin.vaultIDBytes,
                                              slot: SealedSlot(entity: .customers, field: field, recordID: customer, view: .plain), session: session.0)
        try fixture.raw { db in
            try db.execute(sql: "DELETE FROM sealed_values WHERE entity = 'customers' AND record_id = ? AND field = ?", arguments: [customer, field])
            try db.execute(sql: "INSERT INTO sealed_values (entity, record_id, field, key_version, sealed) VALUES ('customers', ?, ?, 1, ?)",
                           arguments: [customer, field, Data(envelope)])
        }
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
        try await DatabaseQueue(path: fixture.path).writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS old", arguments: [copy])
            try db.inTransaction {
                let id = fixture.uk
                try db.execute(sql: "DELETE FROM customers WHERE id = ?", arguments: [id])
                try db.execute(sql: "INSERT INTO customers SELECT * FROM old.customers WHERE id = ?", arguments: [id])
                for table in ["blind_indexes", "unique_indexes", "interactions", "behaviour", "consent_events"] {
                    try db.execute(sql: "INSERT OR IGNORE INTO \(table) SELECT * FROM old.\(table) WHERE customer_id = ?", arguments: [id])
                }
                try db.execute(sql: "INSERT OR IGNORE INTO sealed_values SELECT * FROM old.sealed_values WHERE entity = 'customers' AND record_id = ?", arguments: [id])
                try db.execute(sql: """
                    INSERT OR IGNORE INTO sealed_values SELECT * FROM old.sealed_values
                    WHERE entity = 'interactions' AND record_id IN (SELECT id FROM old.interactions WHERE customer_id = ?)
                    """, arguments: [id])
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE old")
        }
        let verify = try fixture.run(["verify"])
        fixture.expectIntegrityFailure(verify, naming: "customers \(fixture.uk) (erased, in the ledger)")
    }

    @Test("the policy in force put back to an older root-signed one from the history is refused on open")
    func policyRolledBack() async throws {
        let fixture = try await TamperFixture.make()
        let older = try #require(try fixture.raw { db in try Row.fetchOne(db, sql: "SELECT source, signature FROM policy_history") })
        _ = try await fixture.admin.applyPolicy(yaml: Policy.defaultYAML + "\n# reviewed 2026-12-01\n", fileName: "tightened.yaml")
        #expect(try fixture.run(["customer", "list"], as: "marketing").status == 0)
        try fixture.raw { db in
            try db.execute(sql: "UPDATE vault_meta SET value = CAST(? AS BLOB) WHERE name = 'policy'", arguments: [older["source"] as String])
            try db.execute(sql: "UPDATE vault_meta SET value = ? WHERE name = 'policy_signature'", arguments: [older["signature"] as Data])
        }
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
        let oldBoxKey = try #require(try await DatabaseQueue(path: oldCopy).read { db in
            try Data.fetchOne(db, sql: "SELECT box_public_key FROM principals WHERE name = 'support'")
        })
        // The old record (old keys, old certificate), its shorter key chain and its old grants.
        try await DatabaseQueue(path: fixture.path).writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS old", arguments: [oldCopy])
            try db.inTransaction {
                let id = "(SELECT id FROM principals WHERE name = 'support')"
                try db.execute(sql: "DELETE FROM principal_keys WHERE principal_id = \(id) AND version > 1")
                try db.execute(sql: "DELETE FROM key_grants WHERE principal_id = \(id)")
                try db.execute(sql: "INSERT INTO key_grants SELECT * FROM old.key_grants WHERE principal_id = \(id)")
                let row = try Row.fetchOne(db, sql: "SELECT * FROM old.principals WHERE name = 'support'")!
                let columns = row.columnNames.filter { $0 != "id" }
                try db.execute(sql: "UPDATE principals SET \(columns.map { "\($0) = ?" }.joined(separator: ", ")) WHERE name = 'support'",
                               arguments: StatementArguments(columns.map { row[$0] as DatabaseValue }))
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE old")
        }
        let refused = await VaultError.caught { _ = try await fixture.open("support", purpose: "support_ticket") }
        #expect(refused?.code == .integrity && refused?.message.contains("key version 2") == true, "\(refused?.message ?? "no error")")
        fixture.expectIntegrityFailure(try fixture.run(["customer", "list"], as: "support", purpose: "support_ticket"), naming: "put back from an older copy")
        // Its grants deleted too, so a custodian's next re-provisioning would seal fresh ones: it refuses
        // instead. Its write sessions (signed again by its new key) go as well, or their check would
        // refuse first and hide whether re-provisioning itself checks the key chain.
        try fixture.raw { db in
            try db.execute(sql: "DELETE FROM key_grants WHERE principal_id = (SELECT id FROM principals WHERE name = 'support')")
            try db.execute(sql: "DELETE FROM write_sessions WHERE principal_id = (SELECT id FROM principals WHERE name = 'support')")
        }
        let apply = await VaultError.caught { _ = try await fixture.admin.applyPolicy(yaml: Policy.defaultYAML + "\n# again\n", fileName: "again.yaml") }
        #expect(apply?.code == .integrity && apply?.message.contains("key version 2") == true, "\(apply?.message ?? "applied")")
        let sealedToOld = try fixture.raw { db in
            try Data.fetchAll(db, sql: "SELECT sealed_key FROM key_grants WHERE principal_id = (SELECT id FROM principals WHERE name = 'support')")
        }
        #expect(sealedToOld.isEmpty, "\(sealedToOld.count) grants sealed to the put-back key \(oldBoxKey.count)-byte box key")
    }

    @Test("an access log whose newest entry claims the last sequence number stops writes with an integrity error, not a crash")
    func auditSequenceAtTheEnd() async throws {
        let fixture = try await TamperFixture.make()
        try fixture.raw { db in
            try db.execute(sql: "UPDATE audit_log SET seq = ? WHERE seq = (SELECT max(seq) FROM audit_log)", arguments: [Int64.max])
        }
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
        try fixture.raw { db in try db.execute(sql: "UPDATE behaviour SET browse_count = ? WHERE customer_id = ?", arguments: [Int64.max, fixture.eu]) }
        fixture.expectIntegrityFailure(try fixture.run(["customer", "behaviour", id]), naming: "behaviour of customer \(id)")
    }
}
