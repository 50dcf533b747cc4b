import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

/// The eleven findings of the attack review (issue #17), each reproduced as the reviewer did:
/// through the file (SQL) or with raw crypto as the principal the finding names. Each attack must
/// now end in an integrity error (exit 6 through the CLI) or a refusal, with no plaintext.
@Suite("Attack review findings (issue #17)")
struct TamperFindingTests {
    // MARK: - 1. Planted values through a forged write session

    @Test("1: an analyst (no field key) forges a write session and an e-mail; every reader refuses it, and rotation does not launder it")
    func forgedWriteSession() async throws {
        let fixture = try await TamperFixture.make()
        let analyst = try await fixture.open("analyst")
        // What the analyst has: its own secrets, and the field's seal public key, in clear in data_keys.
        let file = try fixture.file
        let publicKey = try #require(try file.value("public_key", in: "data_keys",
                                                    where: ["field": "customers.email", "purpose": "seal_public", "version": 1])?.bytes)
        let sessionKey = try SecretBytes(randomCount: 32)
        let sealed = try sessionKey.withUnsafeBytes { try SealedBox.seal($0, to: publicKey) }
        let vaultID = analyst.vaultIDBytes
        let forged = "forged.owner@example.com"
        do {
            let id = try file.nextID(in: "write_sessions")
            let analystID = try #require(try file.value("id", in: "principals", where: ["name": "analyst"]))
            let signature = try Ed25519.sign(WriteSessions.message(vaultID: vaultID, principal: "analyst", id: id, field: "customers.email",
                                                                   purpose: .seal, version: 1, sealedKey: sealed, policyHash: analyst.policyHash),
                                             with: analyst.secrets.signingKeyPair)
            try file.insert(into: "write_sessions", [
                "id": id, "principal_id": analystID, "field": "customers.email", "purpose": "seal", "key_version": 1, "sealed_key": sealed,
                "signature": signature, "created_at": "now", "format": 2, "policy_hash": analyst.policyHash,
            ])
            let envelope = try FieldEnvelope.seal(forged, key: sessionKey, keyVersion: 1, vaultID: vaultID,
                                                  slot: SealedSlot(entity: .customers, field: "email", recordID: fixture.eu, view: .plain), session: id)
            #expect(try file.update("sealed_values", set: ["sealed": envelope], where: ["entity": "customers", "record_id": .is(fixture.eu), "field": "email"]) == 1)
        }
        // The analyst holds the record key (it counts rows), so it can even make the record commit to the forgery.
        try fixture.recommit(customer: fixture.eu, as: analyst)

        let refused = await VaultError.caught { _ = try await fixture.admin.customer(fixture.eu) }
        #expect(refused?.code == .integrity)
        #expect(refused?.message.contains("no write grant for customers.email") == true, "\(refused?.message ?? "")")
        let marketing = try await fixture.open("marketing")
        #expect(await VaultError.caught { _ = try await marketing.listCustomers() }?.code == .integrity)
        fixture.expectIntegrityFailure(try fixture.run(["customer", "get", String(fixture.eu)]), naming: "write session")
        // Rotation opens every value to re-seal it: it refuses instead of turning the forgery into a format-1 value.
        #expect(await VaultError.caught { _ = try await fixture.admin.rotateKeys(fields: ["email"]) }?.code == .integrity)
        let still = try file.value("sealed", in: "sealed_values", where: ["entity": "customers", "record_id": .is(fixture.eu), "field": "email"])?.data
        #expect(still.map { FieldEnvelope.session(of: [UInt8]($0)) != nil } == true, "the forged value was not re-sealed")
        #expect(!(try fixture.run(["customer", "list"]).output.contains(forged)))
    }

    // MARK: - 2. The schema in vault_meta

    @Test("2: a schema edited in vault_meta (mask widened, fields made plain) is refused on open and by audit verify")
    func editedSchema() async throws {
        let fixture = try await TamperFixture.make()
        do {
            let file = try fixture.file
            let text = String(decoding: try #require(try file.value("value", in: "vault_meta", where: ["name": "schema"])?.data), as: UTF8.self)
            let edited = text.replacingOccurrences(of: "mask: { prefix: 3 }", with: "mask: { prefix: 16 }")
                .replacingOccurrences(of: "birth_date: { class: personal", with: "birth_date: { class: plain   ")
                .replacingOccurrences(of: "gender:     { class: personal", with: "gender:     { class: plain   ")
            #expect(edited != text)
            #expect(try file.update("vault_meta", set: ["value": Data(edited.utf8)], where: ["name": "schema"]) == 1)
        }
        #expect(await VaultError.caught { _ = try await fixture.open("support", purpose: "support_ticket") }?.code == .integrity)
        fixture.expectIntegrityFailure(try fixture.run(["customer", "get", String(fixture.eu)], as: "support", purpose: "support_ticket"),
                                       naming: "schema")
        fixture.expectIntegrityFailure(try fixture.cli.run(["audit", "verify"]), naming: "schema")
        fixture.expectIntegrityFailure(try fixture.run(["customer", "add", "--name", "New Person", "--email", "new@example.com",
                                                        "--birth-date", "1990-01-01", "--gender", "x"]))
        #expect(try fixture.file.count("customers") == 2, "nothing was written in clear")
    }

    // MARK: - 3. Planted SQL objects

    @Test("3: a trigger that silences the access log, or one that copies erased values aside, is refused on open and mid-session")
    func plantedTriggers() async throws {
        let fixture = try await TamperFixture.make()
        let entries = { try fixture.file.count("audit_log") }
        // Planted while the admin's handle is open (another process): its next request is refused.
        try fixture.file.plant(.silenceAccessLog)
        let before = try entries()
        let error = await VaultError.caught { _ = try await fixture.admin.customer(fixture.eu) }
        #expect(error?.code == .integrity && error?.message.contains("trigger quiet on audit_log") == true, "\(error?.message ?? "")")
        #expect(try entries() == before)
        fixture.expectIntegrityFailure(try fixture.run(["customer", "list"], as: "support", purpose: "support_ticket"), naming: "trigger quiet")
        fixture.expectIntegrityFailure(try fixture.run(["export", "customers"], as: "support", purpose: "fraud_investigation"))
        try fixture.file.dropTrigger("quiet")

        try fixture.file.plant(.copyDeletedSealedValues)
        fixture.expectIntegrityFailure(try fixture.run(["customer", "erase", String(fixture.eu)], as: "dpo", purpose: "subject_request"),
                                       naming: "cvault did not create")
        #expect(try fixture.file.count("shadow") == 0, "nothing was erased, nothing copied")
        #expect(try fixture.file.value("erased_at", in: "customers", where: ["id": .is(fixture.eu)]) ?? .null == .null)
    }

    // MARK: - 4. A changed passphrase

    @Test("4: after principal passwd, the old credential with an old copy of the file opens none of the current grants")
    func passwdRevokes() async throws {
        let fixture = try await TamperFixture.make()
        let supportKey = try Credential.keyFile(at: fixture.keyFile("support"))
        let oldCopy = fixture.workspace.path("old-copy.vault")
        try await fixture.admin.checkpoint()
        try FileManager.default.copyItem(atPath: fixture.path, toPath: oldCopy)
        // The CLI changes support's credential; then the custodian rotates and retires every key.
        let changed = try fixture.cli.run(["principal", "passwd", "--principal", "support", "--key-file", fixture.keyFile("support"),
                                           "--key-file-out", fixture.workspace.path("support-new.key")])
        #expect(changed.status == 0, "\(changed.stderr)")
        _ = try await fixture.admin.rotateKeys()
        _ = try await fixture.admin.retireKeys()
        let later = try await fixture.admin.addCustomer(["name": "Later Person", "email": "later@example.com", "region": "EU"])
        _ = later

        // What the old credential still yields: the old secrets, from the old copy.
        let oldFile = try VaultFileInspector(oldCopy)
        let oldRecord = try oldFile.storeRead { try $0.requirePrincipal(named: "support") }
        let oldSecrets = try oldRecord.unlock(credential: supportKey, vaultID: fixture.admin.vaultIDBytes)
        let oldKeys = try oldFile.storeRead { tx in
            try tx.grants(of: oldRecord).map { try $0.open(principal: "support", secrets: oldSecrets, vaultID: fixture.admin.vaultIDBytes) }
        }
        #expect(!oldKeys.isEmpty)
        // Every current grant of every principal, tried with the old box key; every current value,
        // tried with every old data key and every key pair derived from one.
        let grants = try fixture.file.values("sealed_key", in: "key_grants").map { try #require($0.bytes) }
        var opened = 0
        for grant in grants where (try? SealedBox.open(grant, with: oldSecrets.boxKeyPair)) != nil { opened += 1 }
        #expect(grants.count > 20 && opened == 0, "\(opened) of \(grants.count) current grants open with the old credential's box key")
        let sessions = try fixture.file.values("sealed_key", in: "write_sessions").map { try #require($0.bytes) }
        for key in oldKeys {
            let pair = try WriteKeyPair.derive(from: key)
            for session in sessions where (try? SealedBox.open(session, with: pair)) != nil { opened += 1 }
        }
        let values = try fixture.file.rows("sealed_values", columns: ["entity", "record_id", "field", "key_version", "sealed", "masked"])
        for row in values {
            let entity = try #require(row["entity"].text.flatMap(Entity.init(rawValue:)))
            for (envelope, view) in [(row["sealed"].bytes, SealedSlot.View.plain), (row["masked"].bytes, .masked)] {
                guard let envelope, let version = FieldEnvelope.keyVersion(of: envelope) else { continue }
                let slot = SealedSlot(entity: entity, field: try #require(row["field"].text), recordID: try #require(row["record_id"].int), view: view)
                for key in oldKeys where (try? FieldEnvelope.open(envelope, key: key, keyVersion: version,
                                                                   vaultID: fixture.admin.vaultIDBytes, slot: slot)) != nil { opened += 1 }
            }
        }
        #expect(opened == 0, "the old credential opened \(opened) things in the current file")
        // The old credential on the current file, and the old signing key's signatures, count for nothing.
        #expect(try fixture.run(["customer", "list"], as: "support", purpose: "support_ticket").status == 4)
        let renewed = try fixture.cli.run(["customer", "list", "--principal", "support", "--key-file", fixture.workspace.path("support-new.key"),
                                           "--purpose", "support_ticket"])
        #expect(renewed.status == 0 && renewed.stdout.contains("qzcanary.wexford@example.com"), "\(renewed.stderr)")
        let head = try #require(try fixture.file.row("audit_log", columns: ["seq", "hash"], orderBy: ["seq"], descending: true))
        let headHash = try #require(head["hash"].bytes)
        let entry = AuditEntry(at: Timestamps.now(), principal: "support", role: "support", action: "customer.read", purpose: nil, target: "-",
                               fields: [], outcome: .allowed, detail: "forged with the old key")
        let seq: Int64 = try #require(head["seq"].int) + 1
        let hash = try AuditChain.entryHash(format: 2, seq: seq, entry: entry, signerPublicKey: oldSecrets.signingKeyPair.publicKey,
                                            previousHash: headHash)
        try fixture.file.insert(into: "audit_log", [
            "seq": seq, "format": 2, "at": entry.at, "principal": "support", "role": "support", "action": "customer.read",
            "purpose": Cell.null, "reason": Cell.null, "target": "-", "fields": "", "outcome": "allowed", "error_code": "", "detail": entry.detail,
            "policy_hash": "", "terms": "", "prev_hash": headHash, "hash": hash, "signature": try Ed25519.sign(hash, with: oldSecrets.signingKeyPair),
        ])
        fixture.expectIntegrityFailure(try fixture.cli.run(["audit", "verify"]), naming: "entry \(seq)")
    }

    // MARK: - 5. Links and single fields

    @Test("5: a note moved to another customer and a field rolled back alone are refused; erasing the owner refuses too")
    func movedAndRolledBack() async throws {
        let fixture = try await TamperFixture.make()
        #expect(try fixture.file.update("interactions", set: ["customer_id": fixture.uk], where: ["customer_id": .is(fixture.eu)]) == 1)
        #expect(await VaultError.caught { _ = try await fixture.admin.history(.interactions, customerID: fixture.uk) }?.code == .integrity)
        fixture.expectIntegrityFailure(try fixture.run(["customer", "history", String(fixture.uk), "--kind", "interactions"]))
        fixture.expectIntegrityFailure(try fixture.run(["customer", "export-subject", String(fixture.uk)], as: "dpo", purpose: "subject_request"))
        // The erasure of the real owner would miss the moved note while its receipt says all went: it refuses.
        fixture.expectIntegrityFailure(try fixture.run(["customer", "erase", String(fixture.eu)], as: "dpo", purpose: "subject_request"),
                                       naming: "interactions")

        // A field put back alone from before an update.
        let ukPhone: Filter = ["entity": "customers", "record_id": .is(fixture.uk), "field": "phone"]
        let old = try #require(try fixture.file.row("sealed_values", columns: ["sealed", "masked"], where: ukPhone))
        try await fixture.admin.updateCustomer(fixture.uk, set: ["phone": "+44 20 7946 0456"])
        #expect(try fixture.file.update("sealed_values", set: ["sealed": old["sealed"], "masked": old["masked"]], where: ukPhone) == 1)
        let rolledBack = await VaultError.caught { _ = try await fixture.admin.customer(fixture.uk) }
        #expect(rolledBack?.code == .integrity && rolledBack?.message.contains("older copy") == true, "\(rolledBack?.message ?? "")")
        fixture.expectIntegrityFailure(try fixture.run(["customer", "get", String(fixture.uk)]))
    }

    // MARK: - 6. Forged erasures

    @Test("6: an unsigned or forged ledger line is refused by restore with its line number; the real ones are signed by their principal")
    func forgedErasure() async throws {
        let fixture = try await TamperFixture.make()
        let backup = fixture.workspace.path("before.cvbackup")
        #expect(try fixture.run(["backup", "create", backup]).status == 0)
        #expect(try fixture.run(["customer", "erase", String(fixture.uk)], as: "dpo", purpose: "subject_request").status == 0)
        let sidecar = fixture.path + ".erasures"
        let lines = try String(contentsOfFile: sidecar, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("\"signedBy\":\"dpo\"") && lines[0].contains("\"signature\""))
        // The attacker adds a line erasing the EU customer "by dpo", first unsigned, then signed with a key of its own.
        let vaultID = fixture.admin.vaultID
        let unsigned = #"{"customer":\#(fixture.eu),"erasedAt":"2026-12-01T00:00:00Z","principal":"dpo","purpose":"subject_request","removed":{"behaviour":0,"indexEntries":3,"interactions":1,"sealedValues":6,"transactions":1},"transactions":"kept_pseudonymised","vaultID":"\#(vaultID)"}"#
        var forged = try JSONDecoder().decode(ErasureLedgerEntry.self, from: Data(unsigned.utf8))
        let dpoRecord = try fixture.file.storeRead { try $0.requirePrincipal(named: "dpo") }
        forged.auditSeq = 1
        try forged.sign(as: dpoRecord, with: try Ed25519.KeyPair.generate())
        for (attempt, line) in [unsigned, String(decoding: try JSONEncoder.sorted.encode(forged), as: UTF8.self)].enumerated() {
            let ledger = fixture.workspace.path("ledger-\(attempt).jsonl")
            try (lines.map(String.init) + [line]).joined(separator: "\n").appending("\n").write(toFile: ledger, atomically: true, encoding: .utf8)
            let target = fixture.workspace.path("restored-\(attempt).vault")
            let restored = try fixture.run(["backup", "restore", backup, "--to", target, "--ledger", ledger])
            fixture.expectIntegrityFailure(restored, naming: "\(ledger):2")
            #expect(!FileManager.default.fileExists(atPath: target), "nothing is restored")
        }
        // The genuine ledger alone restores, re-applying the real erasure only.
        let target = fixture.workspace.path("restored.vault")
        let restored = try fixture.run(["backup", "restore", backup, "--to", target, "--ledger", sidecar])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("1 erasures re-applied"))
    }

    // MARK: - 7. Plain attributes

    @Test("7: support cannot set a consent flag or a region (no write grant), and every field a write touches is in its log entry")
    func plainAttributeGrants() async throws {
        let fixture = try await TamperFixture.make()
        let refused = try fixture.run(["customer", "update", String(fixture.eu), "--field", "marketing_consent=false"], as: "support")
        #expect(refused.status == 3 && refused.stderr.contains("may not write customers.marketing_consent"), "\(refused.stderr)")
        #expect(try fixture.run(["customer", "update", String(fixture.eu), "--region", "UK"], as: "support").status == 3)
        #expect(try await fixture.admin.customer(fixture.eu).fields["marketing_consent"] == "true")
        #expect(try fixture.run(["customer", "update", String(fixture.eu), "--phone", "+44 20 7946 0998", "--region", "UK"]).status == 0)
        let fields = try fixture.file.values("fields", in: "audit_log", where: ["action": "customer.update"], orderBy: ["seq"]).map { try #require($0.text) }
        #expect(fields.first?.contains("customers.marketing_consent:write") == true, "the refusal names the field: \(fields)")
        #expect(fields.last == "customers.phone:write,customers.region:write", "\(fields)")
    }

    // MARK: - 8. A disabled principal

    @Test("8: a disabled principal that flips its flag back and restores its old grants is refused; its planted sessions and log entries too")
    func disabledStaysDisabled() async throws {
        let fixture = try await TamperFixture.make()
        let file = try fixture.file
        let intakeID = try #require(try file.value("id", in: "principals", where: ["name": "intake"]))
        let grants = try file.rows("key_grants", columns: ["key_id", "sealed_key", "signature", "format"], where: ["principal_id": .is(intakeID)])
        let intake = try await fixture.open("intake")
        let intakeSecrets = intake.secrets
        #expect(try fixture.run(["principal", "disable", "intake"]).status == 0)
        let disabledAt = try #require(try file.value("disabled_at_seq", in: "principals", where: ["name": "intake"])?.int)
        #expect(try file.update("principals", set: ["disabled": 0, "disabled_at_seq": Cell.null], where: ["id": .is(intakeID)]) == 1)
        for grant in grants {
            try file.insert(into: "key_grants", ["principal_id": intakeID, "key_id": grant["key_id"], "sealed_key": grant["sealed_key"],
                                                 "signature": grant["signature"], "format": grant["format"]])
        }
        #expect(await VaultError.caught { _ = try await fixture.open("intake") }?.code == .integrity)
        fixture.expectIntegrityFailure(try fixture.run(["customer", "add", "--name", "Back Again", "--email", "back@example.com", "--region", "EU"],
                                                       as: "intake"), naming: "certificate")
        // The flag left as it is: a session signed by intake after its disable has no countersignature.
        let publicKey = try #require(try file.value("public_key", in: "data_keys",
                                                    where: ["field": "customers.gender", "purpose": "seal_public", "version": 1])?.bytes)
        #expect(try file.update("principals", set: ["disabled": 1, "disabled_at_seq": disabledAt], where: ["name": "intake"]) == 1)
        try file.delete(from: "key_grants", where: ["principal_id": .is(intakeID)])
        let sessionKey = try SecretBytes(randomCount: 32)
        let sealed = try sessionKey.withUnsafeBytes { try SealedBox.seal($0, to: publicKey) }
        let vaultID = fixture.admin.vaultIDBytes
        do {
            let id = try file.nextID(in: "write_sessions")
            let signature = try Ed25519.sign(WriteSessions.message(vaultID: vaultID, principal: "intake", id: id, field: "customers.gender", purpose: .seal,
                                                                   version: 1, sealedKey: sealed, policyHash: fixture.admin.policyHash),
                                             with: intakeSecrets.signingKeyPair)
            try file.insert(into: "write_sessions", [
                "id": id, "principal_id": intakeID, "field": "customers.gender", "purpose": "seal", "key_version": 1, "sealed_key": sealed,
                "signature": signature, "created_at": "now", "format": 2, "policy_hash": fixture.admin.policyHash,
            ])
            let envelope = try FieldEnvelope.seal("planted", key: sessionKey, keyVersion: 1, vaultID: vaultID,
                                                  slot: SealedSlot(entity: .customers, field: "gender", recordID: fixture.uk, view: .plain), session: id)
            try file.insert(into: "sealed_values", ["entity": "customers", "record_id": fixture.uk, "field": "gender", "key_version": 1, "sealed": envelope])
        }
        try fixture.recommit(customer: fixture.uk, as: fixture.admin)
        let planted = await VaultError.caught { _ = try await fixture.admin.customer(fixture.uk) }
        #expect(planted?.code == .integrity && planted?.message.contains("not countersigned") == true, "\(planted?.message ?? "")")
        // Its old handle, still open, is stopped at its next request, and signs nothing more.
        #expect(await VaultError.caught { _ = try await intake.addCustomer(["name": "Late Write", "email": "late@example.com", "region": "EU"]) }?.code == .accessDenied)
        #expect(try fixture.cli.run(["audit", "verify"]).status == 0, "the log holds nothing signed by intake after its disable")
    }

    // MARK: - 9. Output files

    @Test("9: exports, subject exports, rejects, ledgers and key files never follow a symlink, are 0600, and replace a file only with --force")
    func outputFiles() async throws {
        let fixture = try await TamperFixture.make()
        let victim = fixture.workspace.path("victim.txt")
        try "precious".write(toFile: victim, atomically: true, encoding: .utf8)
        chmod(victim, 0o644)
        let bad = try fixture.workspace.write("bad.csv", "name,email\nNo Email,not-an-email\n")
        let commands: [(String, (String) -> [String], String?)] = [
            ("export", { ["export", "customers", "--output", $0] }, nil),
            ("subject", { ["customer", "export-subject", String(fixture.eu), "--output", $0] }, "dpo"),
            ("ledger", { ["erasures", "export", "--output", $0] }, nil),
            ("rejects", { ["import", "customers", bad, "--rejects", $0] }, nil),
        ]
        for (name, arguments, principal) in commands {
            let purpose = principal == "dpo" ? "subject_request" : nil
            let link = fixture.workspace.path("\(name)-link")
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
            let followed = try fixture.run(arguments(link), as: principal ?? "admin", purpose: purpose)
            #expect(followed.status == 1 && followed.stderr.contains("already exists"), "\(name): \(followed.stderr)")
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious", "\(name) wrote through the link")
            let forced = try fixture.run(arguments(link) + ["--force"], as: principal ?? "admin", purpose: purpose)
            #expect(forced.status == 0 || (name == "rejects" && forced.status == 1), "\(name): \(forced.stderr)")
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious", "\(name) --force replaced the link, not its target")
            let attributes = try FileManager.default.attributesOfItem(atPath: link)
            #expect(attributes[.type] as? FileAttributeType == .typeRegular, "\(name)")
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(name) mode")
            let fresh = fixture.workspace.path("\(name)-fresh")
            _ = try fixture.run(arguments(fresh), as: principal ?? "admin", purpose: purpose)
            #expect((try FileManager.default.attributesOfItem(atPath: fresh)[.posixPermissions] as? Int) == 0o600, "\(name) mode")
        }
        let keyLink = fixture.workspace.path("key-link")
        try FileManager.default.createSymbolicLink(atPath: keyLink, withDestinationPath: fixture.workspace.path("nowhere.key"))
        let key = try fixture.run(["principal", "add", "x1", "--role", "analyst", "--key-file-out", keyLink])
        #expect(key.status == 1 && !FileManager.default.fileExists(atPath: fixture.workspace.path("nowhere.key")), "\(key.stderr)")
    }

    // MARK: - 10. CSV formulas

    @Test("10: cells a spreadsheet would run are neutralised in CSV exports, and an export imports back to the original values")
    func csvFormulas() async throws {
        let fixture = try await TamperFixture.make()
        let values = ["name": "=HYPERLINK(\"http://evil.example/\",\"x\")", "email": "formula@example.com", "address": "+cmd|' /C calc'!A0",
                      "gender": "@SUM(1+1)", "region": "EU"]
        let id = try await fixture.admin.addCustomer(values)
        _ = try await fixture.admin.addCustomer(["name": "Second Person", "email": "second@example.com", "address": "'quoted", "gender": "-minus",
                                                 "region": "EU"])
        let file = fixture.workspace.path("out.csv")
        #expect(try fixture.run(["export", "customers", "--output", file]).status == 0)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        for line in text.split(separator: "\n").dropFirst() {
            for cell in line.split(separator: ",", omittingEmptySubsequences: false) {
                let cell = cell.hasPrefix("\"") ? cell.dropFirst() : cell[...]
                #expect(!["=", "+", "-", "@", "\t"].contains(where: { cell.hasPrefix($0) }), "a live formula cell: \(cell)")
            }
        }
        #expect(text.contains("'=HYPERLINK") && text.contains("'+cmd") && text.contains("'@SUM") && text.contains("'-minus") && text.contains("''quoted"))
        // Into an empty vault, the export reads back as the original values.
        let other = fixture.workspace.path("other.vault")
        let key = try SecretBytes(randomCount: 32)
        let copy = try await CustomerVault.create(at: other, schema: fixture.admin.schema, administrator: "admin", credential: .keyFile(key))
        let report = try await copy.importCSV(.customers, from: file)
        #expect(report.rejected == 0, "\(report.rejects)")
        let imported = try await copy.findCustomers(field: "email", equalTo: "formula@example.com")
        for field in ["name", "address", "gender"] { #expect(imported.first?.fields[field] == values[field], "\(field)") }
        let second = try await copy.findCustomers(field: "email", equalTo: "second@example.com").first
        #expect(second?.fields["address"] == "'quoted" && second?.fields["gender"] == "-minus")
        _ = id
    }

    // MARK: - 11. What a row-restricted role learns, and the environment

    @Test("11: a row-restricted role learns of an invisible customer only what uniqueness implies; rejects are 0600; the passphrase leaves the environment")
    func smallLeaks() async throws {
        let fixture = try await TamperFixture.make()
        let support = try await fixture.open("support", purpose: "support_ticket")
        // The same refusal, word for word, for a visible and for an invisible duplicate.
        let invisible = await VaultError.caught { _ = try await support.findCustomers(field: "name", equalTo: "Una Kingdom") }
        #expect(invisible == nil)
        #expect(try await support.findCustomers(field: "name", equalTo: "Una Kingdom").isEmpty)
        #expect(try await support.findCustomers(field: "name", equalTo: "Nobody Atall").isEmpty)
        let details = try fixture.file.values("detail", in: "audit_log", where: ["principal": "support", "action": "customer.search"], orderBy: ["seq"])
            .map { try #require($0.text) }
        #expect(details.count == 3 && details[1] == details[2], "searches for an invisible and an absent name log the same detail: \(details)")
        #expect(!details.contains { $0.contains("candidate") })
        let intoInvisible = await VaultError.caught { try await support.updateCustomer(fixture.eu, set: ["email": "una.kingdom@example.com"]) }
        let intoVisible = await VaultError.caught {
            _ = try await fixture.admin.addCustomer(["name": "Eve Visible", "email": "eve.visible@example.com", "region": "EU"])
            try await support.updateCustomer(fixture.eu, set: ["email": "eve.visible@example.com"])
        }
        #expect(intoInvisible?.code == .conflict && intoInvisible?.message == intoVisible?.message, "\(intoInvisible?.message ?? "") / \(intoVisible?.message ?? "")")

        // Rejects file mode.
        let bad = try fixture.workspace.write("bad.csv", "name,email\nNo Email,not-an-email\n")
        let rejects = fixture.workspace.path("rejects.csv")
        _ = try fixture.run(["import", "customers", bad, "--rejects", rejects])
        #expect((try FileManager.default.attributesOfItem(atPath: rejects)[.posixPermissions] as? Int) == 0o600)

        // A long-running command read CVAULT_PASSPHRASE and removed it from its environment block.
        let passphrase = "env passphrase of a follower 7431"
        let vault = fixture.workspace.path("env.vault")
        #expect(try fixture.cli.run(["init", "--vault", vault], extraEnvironment: ["CVAULT_PASSPHRASE": passphrase]).status == 0)
        let pid = try fixture.cli.spawn(["audit", "log", "--follow", "--vault", vault], extraEnvironment: ["CVAULT_PASSPHRASE": passphrase])
        defer { kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, 0) }
        var environ = ""
        for _ in 0..<100 {
            usleep(100_000)
            environ = (try? String(contentsOfFile: "/proc/\(pid)/environ", encoding: .isoLatin1)) ?? ""
            // Unlocked once the follower has written its entry.
            let followed = try VaultFileInspector(vault).count("audit_log", where: ["action": "audit.read"])
            if followed > 0 { break }
        }
        environ = (try? String(contentsOfFile: "/proc/\(pid)/environ", encoding: .isoLatin1)) ?? ""
        #expect(environ.contains("CVAULT_VAULT="), "the environment block was read")
        #expect(!environ.contains(passphrase), "the passphrase is still in /proc/\(pid)/environ")
    }
}
