import Foundation
import VaultCrypto
import VaultCore
import VaultStore

extension CustomerVault {
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
            // The log was verified just above: its entries are what the vault's principals signed.
            var marked: String?
            try tx.forEachAuditEntry(AuditQuery()) { entry in
                if entry.entry.action == VaultAction.vaultInit.rawValue, entry.entry.detail.contains(Self.integrityMarker) {
                    marked = "the access log records at entry \(entry.seq) that this vault was made with record integrity tags"
                } else if entry.entry.action == VaultAction.vaultUpgrade.rawValue {
                    marked = "the access log records at entry \(entry.seq) that this vault was upgraded"
                }
                return marked == nil
            }
            if let marked { return marked }
            if try tx.holdsCurrentFormatRows() { return "the file holds rows of the current format" }
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
                                                   custodian: principal, signer: secrets.signingKeyPair, vaultID: vaultIDBytes, in: tx)
            let tagged = try Self.tagRows(integrity: integrity, in: tx)
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
                                       custodian: String, signer: Ed25519.KeyPair, vaultID: [UInt8], in tx: some StoreWriting) throws -> String {
        try KeyProvisioner.recordKeys([RecordIntegrity.scope: recordKey], integrity: integrity, in: tx, now: Timestamps.now())
        // Every key row tagged, before anything loads a keyring that holds the record key.
        for key in try tx.dataKeys() where key.tag == nil {
            try tx.setDataKeyTag(id: key.id, tag: try integrity.dataKey(id: key.id, scope: key.scope, publicKey: key.publicKey, retiredAt: key.retiredAt))
        }
        // Older releases started a "write session" for the backup public key of backup
        // operators; no value names one, and nothing could vouch for it.
        try tx.deleteWriteSessions(field: KeyScope.vaultWide)
        let seq = try AuditTrail.nextSeq(tx)
        var certified = 0, countersigned = 0
        for var record in try tx.principals() {
            // Format-1 certificates are checked once more, then replaced by format 2.
            try record.verifyCertificate(vaultID: vaultID, rootPublicKey: provisioner.root.publicKey, legacy: true)
            if record.disabled, record.disabledAtSeq == nil {
                record.disabledAtSeq = seq
                countersigned += try WriteSessions.countersign(of: record, vaultID: vaultID, root: provisioner.root, in: tx)
            }
            try record.certify(vaultID: vaultID, root: provisioner.root)
            try tx.updatePrincipalDisabled(id: record.id ?? 0, disabledAtSeq: record.disabledAtSeq, certificate: record.certificate)
            certified += 1
        }
        try tx.deleteFirstFormatGrants()
        var granted = 0
        for record in try tx.principals() {
            granted += try provisioner.provision(record, role: policy.role(record.role), in: tx).added
        }
        // Entries made before erasures were signed: attested by this custodian.
        let me = try tx.requirePrincipal(named: custodian)
        var attested = 0
        for var entry in try ErasureLedger.entries(tx, vaultID: Hex.encode(vaultID)) where entry.signature == nil {
            entry.auditSeq = seq
            try entry.sign(as: me, with: signer)
            try tx.updateErasureAttestation(try ErasureLedger.stored(entry))
            attested += 1
        }
        return "\(certified) certificates and \(granted) grants re-issued, \(countersigned) write sessions of disabled principals "
            + "countersigned, \(attested) erasures attested"
    }

    /// Step 3 of ``upgradeFormat()``: tags every untagged row (records with the digests of their
    /// sealed values and index entries), in the order customers, history, behaviour counters,
    /// consent events, imports, refused records, rotations. Returns how many.
    private static func tagRows(integrity: RecordIntegrity, in tx: some StoreWriting) throws -> Int {
        var count = 0
        // The index entries each customer holds, from one pass over each index.
        var digests: [Int64: IndexDigests] = [:]
        for unique in [true, false] {
            try tx.forEachIndexEntry(unique: unique) { field, version, digest, customer in
                if digests[customer, default: IndexDigests()][field].map({ $0.version <= version }) ?? true {
                    digests[customer, default: IndexDigests()][field] = .init(version: version, digest: digest)
                }
            }
        }
        var untagged: [CustomerRow] = []
        try tx.forEachCustomerRow { if $0.tag == nil { untagged.append($0) } }
        for var row in untagged {
            row.sealedDigest = try RecordIntegrity.sealedDigest(try tx.sealedEntries(.customers, recordID: row.id), entity: .customers, recordID: row.id)
            row.indexDigests = digests[row.id] ?? IndexDigests()
            try row.retag(integrity)
            try tx.update(row)
            count += 1
        }
        for entity in [Entity.transactions, .interactions] {
            var rows: [HistoryRow] = []
            try tx.forEachHistoryRow(entity) { if $0.tag == nil { rows.append($0) } }
            for var row in rows {
                row.sealedDigest = try RecordIntegrity.sealedDigest(try tx.sealedEntries(entity, recordID: row.id), entity: entity, recordID: row.id)
                try row.retag(integrity)
                try tx.update(row)
                count += 1
            }
        }
        var counters: [StoredBehaviour] = []
        try tx.forEachBehaviour { if $0.tag == nil { counters.append($0) } }
        for var behaviour in counters {
            behaviour.tag = try integrity.behaviour(customerID: behaviour.customerID,
                                                    BehaviourCounters(browse: Int(behaviour.browse), purchase: Int(behaviour.purchase), review: Int(behaviour.review)),
                                                    updatedAt: behaviour.updatedAt)
            try tx.writeBehaviour(behaviour)
            count += 1
        }
        for customer in try tx.consentCustomerIDs() {
            for event in try tx.consentEvents(customerID: customer) where event.tag == nil {
                try tx.setConsentEventTag(id: event.id, tag: try integrity.consent(id: event.id, customerID: event.customerID, consent: event.consent,
                                                                                   granted: event.granted, at: event.at))
                count += 1
            }
        }
        for var entry in try tx.importEntries() where entry.tag == nil {
            entry.tag = try integrity.importState(digest: entry.digest, kind: entry.kind, recordsDone: entry.recordsDone, accepted: entry.accepted,
                                                  rejected: entry.rejected, startedAt: entry.startedAt, updatedAt: entry.updatedAt, finishedAt: entry.finishedAt)
            try tx.writeImport(entry)
            count += 1
        }
        var rejects: [StoredImportReject] = []
        try tx.forEachImportReject { if $0.tag == nil { rejects.append($0) } }
        for var stored in rejects {
            stored.tag = try integrity.importReject(digest: stored.digest, try ImportReject.stored(stored))
            try tx.writeImportReject(stored)
            count += 1
        }
        for var rotation in try tx.rotations() where rotation.tag == nil {
            rotation.tag = try integrity.rotation(id: rotation.id, fields: rotation.fields, startedBy: rotation.startedBy, startedAt: rotation.startedAt,
                                                  finishedAt: rotation.finishedAt)
            try tx.updateRotation(rotation)
            count += 1
        }
        return count
    }
}
