import Foundation
import VaultCrypto
import VaultCore
import VaultStore

/// What `eraseCustomer` prints: proof of the erasure that itself holds no personal data.
public struct ErasureReceipt: Sendable, Equatable, Codable {
    public var entry: ErasureLedgerEntry
    /// The sidecar ledger file the entry was also appended to (nil if it could not be written:
    /// then `warning` says so and the operator must export the ledger).
    @NullEncoded public var ledgerFile: String?
    /// Whether the write-ahead log was checkpointed and truncated afterwards, so no old page
    /// image of the customer's values is left in it.
    public var walCleared: Bool
    @NullEncoded public var warning: String?
}

extension CustomerVault {
    /// Erases a customer (action `subject.erase`; shipped role `dpo`, with a purpose).
    ///
    /// Removes every personal value, blind-index entry, interaction and behaviour counter of the
    /// customer; transactions are kept pseudonymised or removed as the policy's
    /// `erasure.transactions` says. Records the erasure, without personal data, in the ledger (a
    /// table in the vault and the sidecar file `VAULT.erasures`), so restoring an older backup
    /// re-applies it. Afterwards the WAL is checkpointed, so the erased values' old pages go too.
    ///
    /// - Throws: ``VaultError`` `.notFound` for an unknown (or invisible) customer, `.conflict` if
    ///   already erased, `.accessDenied`.
    func eraseCustomer(_ id: Int64) async throws -> ErasureReceipt {
        let decision = try await requireAllowed(AccessRequest(.subjectErase))
        let entry: ErasureLedgerEntry
        do {
            entry = try await performErase(id)
        } catch let error as VaultError where error.code == .conflict {
            // Already erased: perhaps by a run killed before it wrote the sidecar. Heal that.
            try? await syncErasureSidecar(allowedBy: decision)
            throw error
        }
        var receipt = ErasureReceipt(entry: entry, ledgerFile: ErasureLedger.sidecar(of: path), walCleared: false)
        do {
            try await syncErasureSidecar(allowedBy: decision)
        } catch {
            receipt.ledgerFile = nil
            receipt.warning = "the erasure is done and in the vault's ledger, but \((error as? VaultError)?.message ?? "the sidecar ledger failed"); export the erasure ledger and keep the file with your backups"
        }
        do {
            try await checkpoint()
            receipt.walCleared = true
        } catch {
            receipt.warning = (receipt.warning.map { $0 + "; " } ?? "") + "the WAL could not be truncated now (another process is reading); it will be at the next checkpoint"
        }
        return receipt
    }

    /// Appends to the sidecar ledger every entry of the vault's ledger it lacks: the erasure just
    /// made, and any that a run killed between its commit and its sidecar write left out
    /// (`CrashInjectionTests`). The ledger holds no personal data; the read is one that `decision`
    /// (an erasure, retention or backup, each logged on its own) already allowed.
    func syncErasureSidecar(allowedBy decision: AccessDecision) async throws {
        let sidecar = ErasureLedger.sidecar(of: path)
        let entries = try await readAllowed(by: decision) { [vaultIDBytes] tx in try ErasureLedger.entries(tx, vaultID: Hex.encode(vaultIDBytes)) }
        guard !entries.isEmpty else { return }
        let written = Set(try ErasureLedger.read(sidecar: sidecar).map(\.entry.customer))
        try ErasureLedger.append(entries.filter { !written.contains($0.customer) }, toSidecar: sidecar)
    }

    private func performErase(_ id: Int64) async throws -> ErasureLedgerEntry {
        try await perform(AccessRequest(.subjectErase)) { [policy, principal, purpose, vaultIDBytes, secrets] tx, note in
            note.target = "customers:\(id)"
            if let row = try tx.customerRow(id: id), let erased = row.erasedAt {
                try row.verify(try note.codec.integrity)
                // A role with row conditions cannot tell an erased customer from an absent one.
                guard note.decision.rows.isUnrestricted else { throw VaultError.notFound("no customer \(id)") }
                throw VaultError.conflict("customer \(id) was already erased at \(erased)")
            }
            guard try Self.visibleAttributes(id, note: note, in: tx) != nil else { throw VaultError.notFound("no customer \(id)") }
            try Self.checkHistory(integrity: try note.codec.integrity, in: tx)
            let entry = try Self.erase(id, policy: policy, vaultID: vaultIDBytes, principal: principal, purpose: purpose,
                                       at: Timestamps.now(), signer: secrets.signingKeyPair, integrity: try note.codec.integrity, in: tx)
            let counts = entry.removed
            note.detail = "erased: \(counts.sealedValues) sealed values, \(counts.indexEntries) index entries, \(counts.interactions) interactions, "
                + "\(counts.transactions) transactions \(entry.transactions), behaviour \(counts.behaviour)"
            return entry
        }
    }

    /// Checks every transaction and interaction against its tag before an erasure: a history row
    /// of the person re-parented to another customer in the file would otherwise be missed by the
    /// erasure while its receipt says everything went. (Retention checks the same rows as it
    /// selects them.)
    static func checkHistory(integrity: RecordIntegrity, in tx: some StoreReading) throws {
        for entity in [Entity.transactions, .interactions] {
            try HistoryRow.forEachVerified(entity, integrity: integrity, in: tx) { _ in }
        }
    }

    /// Erases one customer as the policy says and records it, signed by `principal`, in the
    /// ledger table; the entry names the access-log entry this transaction appends.
    static func erase(_ id: Int64, policy: Policy, vaultID: [UInt8], principal: String, purpose: String?, at now: String,
                      signer: Ed25519.KeyPair, integrity: RecordIntegrity, in tx: some StoreWriting) throws -> ErasureLedgerEntry {
        let keep = policy.erasureKeepsTransactions
        var entry = ErasureLedgerEntry(vaultID: Hex.encode(vaultID), customer: id, erasedAt: now, principal: principal, purpose: purpose,
                                       transactions: keep ? "kept_pseudonymised" : "removed",
                                       removed: try applyErasure(id, keepTransactions: keep, at: now, integrity: integrity, in: tx),
                                       auditSeq: try AuditTrail.nextSeq(tx))
        try entry.sign(as: try tx.requirePrincipal(named: principal), with: signer)
        try ErasureLedger.record(entry, in: tx)
        return entry
    }

    /// The erasure ledger of this vault (action `audit.read`): ids and times, no personal data;
    /// every entry's signature verified.
    func erasureLedger() async throws -> [ErasureLedgerEntry] {
        try await perform(AccessRequest(.auditRead)) { [vaultIDBytes, secrets, policy] tx, note in
            note.target = "erasure-ledger"
            return try ErasureLedger.verifiedEntries(tx, vaultID: vaultIDBytes, rootPublicKey: secrets.rootSigningPublicKey, policy: policy)
        }
    }

    /// Re-applies ledger entries of this vault that the store lacks (a restored older backup), each
    /// signature verified first: an unsigned or forged line stops the restore, naming its place.
    /// Returns how many customers were erased again.
    static func reapplyErasures(_ lines: [LedgerLine], vaultID: [UInt8], rootPublicKey: [UInt8], policy: Policy, integrity: RecordIntegrity,
                                in tx: some StoreWriting) throws -> Int {
        // The same erasure may come from several ledgers (the sidecar, the replaced vault): once.
        var known = Set(try tx.erasures().map(\.customerID))
        var applied = 0
        if !lines.isEmpty { try checkHistory(integrity: integrity, in: tx) }
        for line in lines {
            let entry = line.entry
            let signer = entry.signedBy.flatMap { try? tx.requirePrincipal(named: $0) }
            try entry.verify(vaultID: vaultID, rootPublicKey: rootPublicKey, policy: policy, known: signer, place: line.place)
            guard known.insert(entry.customer).inserted else { continue }
            guard let row = try tx.customerRow(id: entry.customer) else { continue }
            try row.verify(integrity)
            _ = try applyErasure(entry.customer, keepTransactions: entry.transactions != "removed", at: entry.erasedAt, integrity: integrity, in: tx)
            try ErasureLedger.record(entry, in: tx)
            applied += 1
        }
        return applied
    }
}
