import Foundation
import VaultSQLite
import VaultCrypto
import VaultCore
import VaultStore

/// What `verifyIntegrity` checked: every count is of things that verified.
public struct IntegrityReport: Sendable, Equatable, Codable {
    /// Rows checked against their tags (records, counters, consent events, index entries, imports,
    /// rejects, rotations).
    public var taggedRows = 0
    /// Customers, transactions and interactions whose sealed values match what their row commits to.
    public var records = 0
    /// Sealed values (full and masked views) opened and authenticated with keys this principal holds.
    public var valuesOpened = 0
    /// Sealed values this principal holds no key for (their digest still checked).
    public var valuesNotOpened = 0
    public var indexEntries = 0
    public var principals = 0
    /// Key grants whose root signature was checked (key custodians check every grant).
    public var grants = 0
    public var writeSessions = 0
    public var erasures = 0
    public var policies = 0
    public var auditEntries: Int64 = 0
}

extension CustomerVault {
    /// Checks everything the vault trusts, in one read snapshot (action `vault.verify`): the SQLite
    /// schema, the signed schema and policy and the policy history, every principal's certificate
    /// and key chain, every key grant's root signature (with the keys this principal holds), every
    /// write session, every row's tag, every record's sealed values against the digest its row
    /// commits to (each value opened where a key is held), every index entry against its tag and
    /// against the digests its customer commits to, sealed values without a record, the erasure
    /// ledger's signatures, that every erased customer is still an empty tombstone, and the whole
    /// access log. The first failure is an integrity error naming
    /// the table and row; nothing is repaired and no value is returned.
    func verifyIntegrity() async throws -> IntegrityReport {
        let request = AccessRequest(.vaultVerify)
        let decision = try await requireAllowed(request)
        try await perform(request) { _, note in
            note.target = "vault"
            note.detail = "integrity check started"
        }
        let report: IntegrityReport
        do {
            report = try await readAllowed(by: decision) { [self] tx in
                var check = IntegrityCheck(vault: self, tx: tx)
                return try check.run()
            }
        } catch {
            throw await recordFailure(request, error)
        }
        try await perform(request) { _, note in
            note.target = "vault"
            note.detail = "integrity verified: \(report.records) records, \(report.taggedRows) tagged rows, \(report.valuesOpened) values opened, "
                + "\(report.indexEntries) index entries, \(report.principals) principals, \(report.grants) grants, "
                + "\(report.writeSessions) write sessions, \(report.erasures) erasures, \(report.auditEntries) log entries"
        }
        return report
    }
}

/// The checks of ``CustomerVault/verifyIntegrity()``, over one read transaction.
private struct IntegrityCheck {
    let vault: CustomerVault
    let tx: any StoreReading
    var report = IntegrityReport()

    init(vault: CustomerVault, tx: any StoreReading) {
        self.vault = vault
        self.tx = tx
    }

    var codec: RecordCodec {
        RecordCodec(schema: vault.schema, keyring: vault.keyState.current.keyring, vaultID: vault.vaultIDBytes, views: [:], sessions: .none,
                    sessionKeys: vault.sessionKeys)
    }

    mutating func run() throws -> IntegrityReport {
        try tx.checkStructure()
        let meta = try VaultMeta.load(tx)
        guard meta.rootSigningPublicKey == vault.secrets.rootSigningPublicKey, meta.vaultID == vault.vaultIDBytes else {
            throw VaultError.integrity("the vault's id or root key is not the one this principal's secrets pin")
        }
        guard meta.isCurrent else { throw VaultError.integrity("the vault's schema signature is missing (removed in the file?)") }
        try policies(meta)
        try principalsAndGrants()
        try sessions()
        let integrity = try codec.integrity
        let committed = try customers(integrity)
        for entity in [Entity.transactions, .interactions] { try history(entity, integrity, customers: Set(committed.keys)) }
        try orphans()
        try indexes(integrity, committed: committed)
        try naturalKeys()
        try counters(integrity)
        try bookkeeping(integrity)
        let erasures = try ErasureLedger.verifiedEntries(tx, vaultID: vault.vaultIDBytes, rootPublicKey: meta.rootSigningPublicKey, policy: meta.policy)
        try tombstones(erasures)
        report.erasures = erasures.count
        report.auditEntries = try AuditVerifier.verify(tx, meta: meta, expect: nil).entries
        return report
    }

    private mutating func policies(_ meta: VaultMeta) throws {
        var inForce = false
        for hash in try tx.historicPolicyHashes() {
            _ = try VaultMeta.historicPolicy(hash, schema: meta.schema, vaultID: meta.vaultID, rootPublicKey: meta.rootSigningPublicKey, in: tx)
            inForce = inForce || hash == AuditChain.policyHash(meta.policy.source)
            report.policies += 1
        }
        guard inForce else { throw VaultError.integrity("policy_history lacks the policy in force (removed in the file?)") }
    }

    private mutating func principalsAndGrants() throws {
        let keyring = vault.keyState.current.keyring
        let root = vault.secrets.rootSigningPublicKey
        for record in try tx.principals() {
            try record.verifyCertificate(vaultID: vault.vaultIDBytes, rootPublicKey: root)
            report.principals += 1
            for grant in try tx.grants(of: record) {
                guard keyring.existingScopes.contains(grant.scope) else {
                    throw VaultError.integrity("principal \(record.name): a grant names key \(grant.scope), which does not exist")
                }
                // The root signature covers a commitment to the key: checkable with the key itself.
                guard let key = keyring.key(grant.scope) else { continue }
                guard grant.format == KeyGrant.currentFormat,
                      Ed25519.isValid(signature: grant.signature,
                                      for: KeyGrant.message(vaultID: vault.vaultIDBytes, principal: record.name, scope: grant.scope,
                                                            commitment: try KeyGrant.commitment(key)), publicKey: root) else {
                    throw VaultError.integrity("principal \(record.name): key grant \(grant.scope) has an invalid root signature (planted in the file?)")
                }
                report.grants += 1
            }
        }
    }

    private mutating func sessions() throws {
        for id in try tx.writeSessionIDs() {
            _ = try vault.sessionKeys.verified(id, in: tx)
            report.writeSessions += 1
        }
    }

    /// Every customer: tag, sealed values, and the index digests it commits to (returned).
    private mutating func customers(_ integrity: RecordIntegrity) throws -> [Int64: IndexDigests] {
        var committed: [Int64: IndexDigests] = [:]
        var rows: [CustomerRow] = []
        try tx.forEachCustomerRow { rows.append($0) }
        for row in rows {
            try row.verify(integrity)
            _ = try row.decodedAttributes()
            try values(.customers, recordID: row.id, expected: row.sealedDigest)
            committed[row.id] = row.indexDigests
            report.taggedRows += 1
        }
        return committed
    }

    private mutating func history(_ entity: Entity, _ integrity: RecordIntegrity, customers: Set<Int64>) throws {
        var rows: [HistoryRow] = []
        try HistoryRow.forEachVerified(entity, integrity: integrity, in: tx) { rows.append($0) }
        for row in rows {
            guard customers.contains(row.customerID) else {
                throw VaultError.integrity("\(row.place): its customer \(row.customerID) does not exist")
            }
            _ = try row.decodedAttributes()
            try values(entity, recordID: row.id, expected: row.sealedDigest)
            report.taggedRows += 1
        }
    }

    /// A record's sealed values: the set its row commits to, each opened where a key is held.
    private mutating func values(_ entity: Entity, recordID: Int64, expected: [UInt8]) throws {
        let codec = codec
        for entry in try SealedEntries.fetchVerified(entity, recordID: recordID, expected: expected, in: tx) {
            guard vault.schema.field(entity, entry.field)?.isPersonal == true, (1...Int64(UInt32.max)).contains(entry.keyVersion) else {
                throw VaultError.integrity("\(entity.rawValue) \(recordID): a sealed value of unknown field \(entry.field) or key version")
            }
            let slot = SealedSlot(entity: entity, field: entry.field, recordID: recordID, view: .plain)
            for (envelope, view) in [(entry.sealed, SealedSlot.View.plain)] + (entry.masked.map { [($0, SealedSlot.View.masked)] } ?? []) {
                var viewSlot = slot
                viewSlot.view = view
                if try codec.open(envelope, slot: viewSlot, claimedVersion: view == .plain ? UInt32(entry.keyVersion) : nil, in: tx) != nil {
                    report.valuesOpened += 1
                } else {
                    report.valuesNotOpened += 1
                }
            }
        }
        report.records += 1
    }

    private func orphans() throws {
        if let orphan = try tx.orphanSealedValue() {
            throw VaultError.integrity("sealed_values: values of \(orphan.entity) \(orphan.recordID), which does not exist (planted in the file?)")
        }
    }

    /// Every index entry: either a digest its customer commits to, or an entry under an
    /// older index key version that a rotation superseded and has not yet dropped. Every committed
    /// digest must be present (an entry removed or altered in the file hides the customer from
    /// that search).
    private mutating func indexes(_ integrity: RecordIntegrity, committed: [Int64: IndexDigests]) throws {
        var found = Set<String>()
        for unique in [true, false] {
            let table = unique ? "unique_indexes" : "blind_indexes"
            try tx.forEachIndexEntry(unique: unique) { field, version, digest, customer in
                let place = "\(table) entry of customers.\(field) for customer \(customer)"
                guard let digests = committed[customer] else { throw VaultError.integrity("\(place): the customer does not exist") }
                if let current = digests[field], current.version == version {
                    guard current.digest == digest, vault.schema.field(.customers, field)?.unique == unique else {
                        throw VaultError.integrity("\(place): not the digest the customer's record commits to (put back from an older copy?)")
                    }
                    found.insert("\(customer)/\(field)")
                } else if let current = digests[field], version < current.version {
                    // Superseded by a rotation still in progress.
                } else {
                    throw VaultError.integrity("\(place): the customer's record holds no such value (planted or put back in the file?)")
                }
                report.indexEntries += 1
            }
        }
        for (customer, digests) in committed {
            for field in digests.fields where !found.contains("\(customer)/\(field)") {
                throw VaultError.integrity("customers \(customer): its customers.\(field) index entry is missing (removed or altered in the file); "
                    + "searches by \(field) do not find it")
            }
        }
    }

    /// Every customer the ledger says was erased is an empty tombstone: nothing of the person came
    /// back (a row or value put back from an older copy of the file would be served again, and
    /// the receipt's promise broken). The rows left were verified above; here, that they are empty.
    private func tombstones(_ erasures: [ErasureLedgerEntry]) throws {
        for entry in erasures {
            let place = "customers \(entry.customer) (erased, in the ledger)"
            guard let row = try tx.customerRow(id: entry.customer) else {
                throw VaultError.integrity("\(place): its tombstone is missing (removed in the file?)")
            }
            guard row.erasedAt != nil, row.attributes == "{}", row.indexDigests.fields.isEmpty,
                  row.sealedDigest == (try RecordIntegrity.sealedDigest([SealedField](), entity: .customers, recordID: entry.customer)) else {
                throw VaultError.integrity("\(place): holds values again (put back from an older copy of the file?)")
            }
            for (present, what) in [(!(try tx.historyRows(.interactions, customerID: entry.customer)).isEmpty, "interactions"),
                                     (try tx.behaviour(customerID: entry.customer) != nil, "behaviour counters"),
                                     (!(try tx.consentEvents(customerID: entry.customer)).isEmpty, "consent events")] where present {
                throw VaultError.integrity("\(place): has \(what) again (put back from an older copy of the file?)")
            }
            for transaction in try HistoryRow.fetchVerified(.transactions, customerID: entry.customer, integrity: try codec.integrity, in: tx) {
                let emptied = try RecordIntegrity.sealedDigest([SealedField](), entity: .transactions, recordID: transaction.id)
                guard entry.transactions != "removed", transaction.sealedDigest == emptied else {
                    throw VaultError.integrity("\(place): transaction \(transaction.id) holds what the erasure removed (put back from an older copy of the file?)")
                }
            }
        }
    }

    /// `natural_keys` holds exactly one entry per natural-key value of every record (rows were
    /// checked against their tags above): a deleted entry would let a row be imported twice.
    private mutating func naturalKeys() throws {
        var expected: Set<[String]> = []
        for entity in Entity.allCases {
            let fields = vault.schema.naturalKeys(of: entity)
            guard !fields.isEmpty else { continue }
            func expect(id: Int64, attributes json: String) throws {
                let attributes = try RecordCodec.decodeAttributes(json, entity: entity, id: id)
                for field in fields {
                    guard let value = attributes[field.name] else { continue }
                    expected.insert([entity.rawValue, field.name, value, String(id)])
                }
            }
            if entity == .customers {
                try tx.forEachCustomerRow { try expect(id: $0.id, attributes: $0.attributes) }
            } else {
                try tx.forEachHistoryRow(entity) { try expect(id: $0.id, attributes: $0.attributes) }
            }
        }
        for stored in try tx.naturalKeyEntries() {
            let entry: [String] = [stored.entity.rawValue, stored.field, stored.value, String(stored.recordID)]
            guard expected.remove(entry) != nil else {
                throw VaultError.integrity("natural_keys: the entry for \(entry[0]).\(entry[1]) of record \(entry[3]) does not match a record (planted or moved in the file)")
            }
            report.indexEntries += 1
        }
        if let missing = expected.sorted(by: { $0.lexicographicallyPrecedes($1) }).first {
            throw VaultError.integrity("natural_keys: \(missing[0]) \(missing[3]) has no entry for its \(missing[1]) (deleted in the file; a re-import would store it twice)")
        }
    }

    private mutating func counters(_ integrity: RecordIntegrity) throws {
        var tagged = 0
        try tx.forEachBehaviour { stored in
            try RecordIntegrity.check(stored.tag, try integrity.behaviour(customerID: stored.customerID,
                                                                          BehaviourCounters(browse: Int(stored.browse), purchase: Int(stored.purchase), review: Int(stored.review)),
                                                                          updatedAt: stored.updatedAt),
                                      "behaviour of customer \(stored.customerID)")
            tagged += 1
        }
        report.taggedRows += tagged
        for customer in try tx.consentCustomerIDs() {
            report.taggedRows += try ConsentEvents.history(customerID: customer, integrity: integrity, in: tx).count
        }
    }

    private mutating func bookkeeping(_ integrity: RecordIntegrity) throws {
        for entry in try tx.importEntries() {
            _ = try ImportState.fetch(tx, digest: entry.digest, integrity: integrity)
            report.taggedRows += 1
        }
        var rejects = 0
        try tx.forEachImportReject { stored in
            _ = try ImportReject.verified(stored, integrity: integrity)
            rejects += 1
        }
        report.taggedRows += rejects
        report.taggedRows += try CustomerVault.verifiedRotations(tx, integrity: integrity).count
    }
}
