import Foundation
import GRDB

/// What `eraseCustomer` prints: proof of the erasure that itself holds no personal data.
public struct ErasureReceipt: Sendable, Equatable, Codable {
    public var entry: ErasureLedgerEntry
    /// The sidecar ledger file the entry was also appended to (nil if it could not be written:
    /// then `warning` says so and the operator must export the ledger).
    public var ledgerFile: String?
    /// Whether the write-ahead log was checkpointed and truncated afterwards, so no old page
    /// image of the customer's values is left in it.
    public var walCleared: Bool
    public var warning: String?
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
    public func eraseCustomer(_ id: Int64) async throws -> ErasureReceipt {
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
            receipt.warning = "the erasure is done and in the vault's ledger, but \((error as? VaultError)?.message ?? "the sidecar ledger failed"); run `cvault erasures export` and keep the file with your backups"
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
        let entries = try await readAllowed(by: decision) { [vaultIDBytes] db in try ErasureLedger.entries(db, vaultID: Hex.encode(vaultIDBytes)) }
        guard !entries.isEmpty else { return }
        let written = Set(try ErasureLedger.read(sidecar: sidecar).map(\.customer))
        try ErasureLedger.append(entries.filter { !written.contains($0.customer) }, toSidecar: sidecar)
    }

    private func performErase(_ id: Int64) async throws -> ErasureLedgerEntry {
        try await perform(AccessRequest(.subjectErase)) { [policy, principal, purpose, vaultIDBytes] db, note in
            note.target = "customers:\(id)"
            if let erased = try String.fetchOne(db, sql: "SELECT erased_at FROM customers WHERE id = ? AND erased_at IS NOT NULL", arguments: [id]) {
                throw VaultError.conflict("customer \(id) was already erased at \(erased)")
            }
            guard try Self.visibleAttributes(id, note: note, db: db) != nil else { throw VaultError.notFound("no customer \(id)") }
            let entry = try Self.erase(id, policy: policy, vaultID: vaultIDBytes, principal: principal, purpose: purpose,
                                       at: Timestamps.now(), db: db)
            let counts = entry.removed
            note.detail = "erased: \(counts.sealedValues) sealed values, \(counts.indexEntries) index entries, \(counts.interactions) interactions, "
                + "\(counts.transactions) transactions \(entry.transactions), behaviour \(counts.behaviour)"
            return entry
        }
    }

    /// Erases one customer as the policy says and records it in the ledger table.
    static func erase(_ id: Int64, policy: Policy, vaultID: [UInt8], principal: String, purpose: String?, at now: String,
                      db: Database) throws -> ErasureLedgerEntry {
        let keep = policy.erasureKeepsTransactions
        let entry = ErasureLedgerEntry(vaultID: Hex.encode(vaultID), customer: id, erasedAt: now, principal: principal, purpose: purpose,
                                       transactions: keep ? "kept_pseudonymised" : "removed",
                                       removed: try applyErasure(id, keepTransactions: keep, at: now, db: db))
        try ErasureLedger.record(entry, db: db)
        return entry
    }

    /// The erasure ledger of this vault (action `audit.read`): ids and times, no personal data.
    public func erasureLedger() async throws -> [ErasureLedgerEntry] {
        try await perform(AccessRequest(.auditRead)) { [vaultIDBytes] db, note in
            note.target = "erasure-ledger"
            return try ErasureLedger.entries(db, vaultID: Hex.encode(vaultIDBytes))
        }
    }

    /// Re-applies ledger entries of this vault that `db` lacks (a restored older backup). Returns
    /// how many customers were erased again.
    static func reapplyErasures(_ entries: [ErasureLedgerEntry], vaultID: String, db: Database) throws -> Int {
        // The same erasure may come from several ledgers (the sidecar, the replaced vault): once.
        var known = Set(try Int64.fetchAll(db, sql: "SELECT customer_id FROM erasure_ledger"))
        var applied = 0
        for entry in entries where entry.vaultID == vaultID && known.insert(entry.customer).inserted {
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM customers WHERE id = ?", arguments: [entry.customer]) == true else { continue }
            var recorded = entry
            recorded.removed = try applyErasure(entry.customer, keepTransactions: entry.transactions != "removed", at: entry.erasedAt, db: db)
            try ErasureLedger.record(recorded, db: db)
            applied += 1
        }
        return applied
    }
}
