import Foundation
import GRDB
import VaultSQLite
import VaultCrypto
import VaultCore
import VaultStore

extension CustomerVault {
    /// Rows tagged per upgrade transaction.
    static let upgradeBatchSize = 2_000

    /// Brings a vault made before record integrity (issue #17) to the current format, on a key
    /// custodian's first open (action `vault.upgrade`, built in for custodians), in one transaction
    /// (a kill leaves the vault as it was; the next custodian open starts again):
    ///
    /// 1. the whole access log is verified, and must not record that the vault was made or
    ///    upgraded with tags; nothing in the file may already be in the current format (a vault
    ///    whose format marker, the schema signature, was removed must not be "upgraded" again);
    /// 2. the record key is created, every principal's certificate re-issued in format 2 (a disabled
    ///    principal's with its disabled state, its write sessions countersigned), every key grant
    ///    re-issued in format 2, and the erasure ledger's entries signed as attested by this custodian;
    /// 3. every row is tagged, and the schema signed, which marks the vault as upgraded; the sidecar
    ///    ledger is rewritten afterwards.
    ///
    /// What the file held before the upgrade is taken as it was (trust on first use): its rows had
    /// no tags to check. Values stay sealed as they were; nothing is decrypted.
    func upgradeFormat() async throws {
        let decision = try await requireAllowed(AccessRequest(.vaultUpgrade))
        let refusal = try await readAllowed(by: decision) { [vaultIDBytes] tx -> String? in
            let meta = try VaultMeta.load(tx)
            guard meta.vaultID == vaultIDBytes else { throw VaultError.integrity("the vault id changed while it was open") }
            _ = try AuditVerifier.verify(tx, meta: meta, expect: nil)
            if let made = try Int64.fetchOne(tx.db, sql: "SELECT seq FROM audit_log WHERE action = ? AND instr(detail, ?) > 0 ORDER BY seq LIMIT 1",
                                             arguments: [VaultAction.vaultInit.rawValue, Self.integrityMarker]) {
                return "the access log records at entry \(made) that this vault was made with record integrity tags"
            }
            if let upgraded = try Int64.fetchOne(tx.db, sql: "SELECT seq FROM audit_log WHERE action = ? ORDER BY seq LIMIT 1",
                                                 arguments: [VaultAction.vaultUpgrade.rawValue]) {
                return "the access log records at entry \(upgraded) that this vault was upgraded"
            }
            let current = [
                "SELECT 1 FROM data_keys WHERE tag IS NOT NULL", "SELECT 1 FROM principal_keys WHERE version > 1",
                "SELECT 1 FROM key_grants WHERE format != 1", "SELECT 1 FROM write_sessions WHERE format != 1 OR root_signature IS NOT NULL",
                "SELECT 1 FROM erasure_ledger WHERE signature IS NOT NULL", "SELECT 1 FROM customers WHERE sealed_digest IS NOT NULL",
            ] + UpgradeTable.allCases.map { "SELECT 1 FROM \($0.rawValue) WHERE tag IS NOT NULL" }
            for query in current where try Bool.fetchOne(tx.db, sql: query + " LIMIT 1") == true {
                return "the file holds rows of the current format"
            }
            return nil
        }
        if let refusal {
            throw VaultError.integrity("\(refusal), but the schema signature that marks such a vault is missing (removed in the file?); "
                + "restore from a backup")
        }
        guard let seed = keyring.key(KeyScope(field: KeyScope.vaultWide, purpose: .root, version: 1)) else {
            throw VaultError.accessDenied("access denied: only a key custodian upgrades a vault")
        }
        let root = try Ed25519.KeyPair(seed: seed)
        var all: [KeyScope: SecretBytes] = [:]
        for scope in keyring.scopes { all[scope] = keyring.key(scope) }
        let recordKey = try SecretBytes(randomCount: 32)
        all[RecordIntegrity.scope] = recordKey
        let integrity = RecordIntegrity(key: recordKey, vaultID: vaultIDBytes)
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: Keyring(keys: all, existingScopes: []))
        try await perform(AccessRequest(.vaultUpgrade)) { [schema, vaultIDBytes, policy, secrets, principal] tx, note in
            let prepared = try Self.prepareUpgrade(recordKey: recordKey, integrity: integrity, provisioner: provisioner, policy: policy,
                                                   custodian: principal, signer: secrets.signingKeyPair, vaultID: vaultIDBytes, db: tx.db)
            var tagged = 0
            for table in UpgradeTable.allCases {
                while case let count = try Self.tagRows(table, integrity: integrity, db: tx.db), count > 0 { tagged += count }
            }
            try tx.insertMeta(name: "schema_signature", value: try VaultMeta.signSchema(schema.source, vaultID: vaultIDBytes, root: root))
            note.target = "vault:\(Hex.encode(vaultIDBytes))"
            note.detail = "upgrade finished: \(prepared); \(tagged) rows tagged, schema signed"
        }
        let entries = try await readAllowed(by: decision) { [vaultIDBytes] tx in
            try ErasureLedger.entries(tx, vaultID: Hex.encode(vaultIDBytes))
        }
        try Self.rewriteSidecar(of: path, entries: entries)
        Self.logger.notice("vault upgraded to record integrity tags", metadata: ["vault": "\(vaultID)"])
    }

    /// Step 2 of ``upgradeFormat()``, in its transaction: keys, certificates, grants and the ledger's
    /// signatures. Returns what it did, for the access log.
    private static func prepareUpgrade(recordKey: SecretBytes, integrity: RecordIntegrity, provisioner: KeyProvisioner, policy: Policy,
                                       custodian: String, signer: Ed25519.KeyPair, vaultID: [UInt8], db: Database) throws -> String {
        try KeyProvisioner.recordKeys([RecordIntegrity.scope: recordKey], integrity: integrity, in: SQLiteTransaction(db), now: Timestamps.now())
        // Every key row tagged, before anything loads a keyring that holds the record key.
        for row in try Row.fetchAll(db, sql: "SELECT id, field, purpose, version, public_key, retired_at FROM data_keys WHERE tag IS NULL") {
            guard let purpose = KeyPurpose(rawValue: try row.checked("purpose")) else { throw VaultError.integrity("data_keys: unknown purpose") }
            let scope = KeyScope(field: try row.checked("field"), purpose: purpose, version: UInt32(clamping: try row.checked("version") as Int64))
            try db.execute(sql: "UPDATE data_keys SET tag = ? WHERE id = ?", arguments: [
                Data(try integrity.dataKey(id: try row.checked("id"), scope: scope, publicKey: (try row.checked("public_key") as Data?).map { [UInt8]($0) },
                                           retiredAt: try row.checked("retired_at"))), try row.checked("id") as Int64])
        }
        // Older releases started a "write session" for the backup public key of backup
        // operators; no value names one, and nothing could vouch for it.
        try db.execute(sql: "DELETE FROM write_sessions WHERE field = ?", arguments: [KeyScope.vaultWide])
        let seq = try AuditTrail.nextSeq(SQLiteTransaction(db))
        var certified = 0, countersigned = 0
        for var record in try SQLiteTransaction(db).principals() {
            // Format-1 certificates are checked once more, then replaced by format 2.
            try record.verifyCertificate(vaultID: vaultID, rootPublicKey: provisioner.root.publicKey, legacy: true)
            if record.disabled, record.disabledAtSeq == nil {
                record.disabledAtSeq = seq
                countersigned += try WriteSessions.countersign(of: record, vaultID: vaultID, root: provisioner.root, in: SQLiteTransaction(db))
            }
            try record.certify(vaultID: vaultID, root: provisioner.root)
            try db.execute(sql: "UPDATE principals SET certificate = ?, disabled_at_seq = ? WHERE id = ?",
                           arguments: [record.certificate.map { Data($0) }, record.disabledAtSeq, record.id])
            certified += 1
        }
        try db.execute(sql: "DELETE FROM key_grants WHERE format = 1")
        var granted = 0
        for record in try SQLiteTransaction(db).principals() {
            granted += try provisioner.provision(record, role: policy.role(record.role), in: SQLiteTransaction(db)).added
        }
        // Entries made before erasures were signed: attested by this custodian.
        let me = try SQLiteTransaction(db).requirePrincipal(named: custodian)
        var attested = 0
        for var entry in try ErasureLedger.entries(SQLiteTransaction(db), vaultID: Hex.encode(vaultID)) where entry.signature == nil {
            entry.auditSeq = seq
            try entry.sign(as: me, with: signer)
            try db.execute(sql: "UPDATE erasure_ledger SET audit_seq = ?, signed_by = ?, signature = ?, signer_proof = ? WHERE customer_id = ?",
                           arguments: [entry.auditSeq, entry.signedBy, entry.signature.flatMap { Hex.decode(Array($0.utf8)) }.map { Data($0) },
                                       String(decoding: try JSONEncoder.sorted.encode(entry.signerProof), as: UTF8.self), entry.customer])
            attested += 1
        }
        return "\(certified) certificates and \(granted) grants re-issued, \(countersigned) write sessions of disabled principals "
            + "countersigned, \(attested) erasures attested"
    }

    /// The tables whose rows carry tags, in the order the upgrade tags them.
    enum UpgradeTable: String, CaseIterable {
        case customers, transactions, interactions, behaviour, consentEvents = "consent_events", imports, importRejects = "import_rejects",
             keyRotations = "key_rotations"
    }

    /// Tags up to ``upgradeBatchSize`` untagged rows of `table`; returns how many.
    private static func tagRows(_ table: UpgradeTable, integrity: RecordIntegrity, db: Database) throws -> Int {
            var count = 0
            let limit = Self.upgradeBatchSize
            switch table {
            case .customers:
                for id in try Int64.fetchAll(db, sql: "SELECT id FROM customers WHERE tag IS NULL ORDER BY id LIMIT ?", arguments: [limit]) {
                    guard var row = try SQLiteTransaction(db).customerRow(id: id) else { continue }
                    row.sealedDigest = try RecordIntegrity.sealedDigest(try SQLiteTransaction(db).sealedEntries(.customers, recordID: id), entity: .customers, recordID: id)
                    var digests = IndexDigests()
                    for index in ["unique_indexes", "blind_indexes"] {
                        for entry in try Row.fetchAll(db, sql: "SELECT field, key_version, digest FROM \(index) WHERE customer_id = ? ORDER BY key_version",
                                                      arguments: [id]) {
                            digests[try entry.checked("field")] = .init(version: UInt32(clamping: try entry.checked("key_version") as Int64), digest: [UInt8](try entry.checked("digest") as Data))
                        }
                    }
                    row.indexDigests = digests
                    try row.retag(integrity)
                    try SQLiteTransaction(db).update(row)
                    count += 1
                }
            case .transactions, .interactions:
                let entity: Entity = table == .transactions ? .transactions : .interactions
                let select = try BulkStatement(db, sql: "SELECT \(HistoryRow.columns) FROM \(entity.rawValue) WHERE tag IS NULL ORDER BY id LIMIT ?")
                try select.bind(1, Int64(limit))
                var rows: [HistoryRow] = []
                while try select.next() { rows.append(HistoryRow.decode(select, entity: entity)) }
                for var row in rows {
                    row.sealedDigest = try RecordIntegrity.sealedDigest(try SQLiteTransaction(db).sealedEntries(entity, recordID: row.id), entity: entity, recordID: row.id)
                    try row.retag(integrity)
                    try SQLiteTransaction(db).update(row)
                    count += 1
                }
            case .behaviour:
                for row in try Row.fetchAll(db, sql: "SELECT customer_id, browse_count, purchase_count, review_count, updated_at FROM behaviour WHERE tag IS NULL LIMIT ?",
                                            arguments: [limit]) {
                    let counters = BehaviourCounters(browse: try row.checked("browse_count"), purchase: try row.checked("purchase_count"), review: try row.checked("review_count"))
                    try db.execute(sql: "UPDATE behaviour SET tag = ? WHERE customer_id = ?", arguments: [
                        Data(try integrity.behaviour(customerID: try row.checked("customer_id"), counters, updatedAt: try row.checked("updated_at"))), try row.checked("customer_id") as Int64])
                    count += 1
                }
            case .consentEvents:
                for row in try Row.fetchAll(db, sql: "SELECT id, customer_id, consent, granted, at FROM consent_events WHERE tag IS NULL LIMIT ?", arguments: [limit]) {
                    try db.execute(sql: "UPDATE consent_events SET tag = ? WHERE id = ?", arguments: [
                        Data(try integrity.consent(id: try row.checked("id"), customerID: try row.checked("customer_id"), consent: try row.checked("consent"), granted: try row.checked("granted"), at: try row.checked("at"))),
                        try row.checked("id") as Int64])
                    count += 1
                }
            case .imports:
                for row in try Row.fetchAll(db, sql: """
                    SELECT file_digest, kind, records_done, accepted, rejected, started_at, updated_at, finished_at FROM imports WHERE tag IS NULL LIMIT ?
                    """, arguments: [limit]) {
                    let digest = [UInt8](try row.checked("file_digest") as Data)
                    try db.execute(sql: "UPDATE imports SET tag = ? WHERE file_digest = ?", arguments: [
                        Data(try integrity.importState(digest: digest, kind: try row.checked("kind"), recordsDone: try row.checked("records_done"), accepted: try row.checked("accepted"),
                                                       rejected: try row.checked("rejected"), startedAt: try row.checked("started_at"), updatedAt: try row.checked("updated_at"),
                                                       finishedAt: try row.checked("finished_at"))), Data(digest)])
                    count += 1
                }
            case .importRejects:
                for row in try Row.fetchAll(db, sql: "SELECT file_digest, record, line, field, reason FROM import_rejects WHERE tag IS NULL LIMIT ?",
                                            arguments: [limit]) {
                    let digest = [UInt8](try row.checked("file_digest") as Data)
                    let reject = try ImportReject.stored(row)
                    try db.execute(sql: "UPDATE import_rejects SET tag = ? WHERE file_digest = ? AND record = ?",
                                   arguments: [Data(try integrity.importReject(digest: digest, reject)), Data(digest), reject.record])
                    count += 1
                }
            case .keyRotations:
                for row in try Row.fetchAll(db, sql: "SELECT id, fields, started_by, started_at, finished_at FROM key_rotations WHERE tag IS NULL LIMIT ?",
                                            arguments: [limit]) {
                    try db.execute(sql: "UPDATE key_rotations SET tag = ? WHERE id = ?", arguments: [
                        Data(try integrity.rotation(id: try row.checked("id"), fields: try row.checked("fields"), startedBy: try row.checked("started_by"), startedAt: try row.checked("started_at"),
                                                    finishedAt: try row.checked("finished_at"))), try row.checked("id") as Int64])
                    count += 1
                }
            }
            return count
    }
}
