import Foundation
import GRDB

/// What an erasure removed: counts only.
public struct ErasureCounts: Sendable, Equatable, Codable {
    public var sealedValues = 0
    public var indexEntries = 0
    public var interactions = 0
    /// Transactions removed, or kept pseudonymised (see ``ErasureLedgerEntry/transactions``).
    public var transactions = 0
    public var behaviour = 0
}

/// One erasure, as the ledger keeps it: no personal data, only the id, when, who and what.
public struct ErasureLedgerEntry: Sendable, Equatable, Codable {
    public var vaultID: String
    public var customer: Int64
    public var erasedAt: String
    public var principal: String
    public var purpose: String?
    /// `kept_pseudonymised` or `removed`.
    public var transactions: String
    public var removed: ErasureCounts
}

/// The erasure ledger: a table in the vault (so every later backup carries it) and a JSON Lines
/// sidecar file beside the vault (`VAULT.erasures`), which survives the vault being replaced by an
/// older backup. A restore re-applies every entry of both that the backup lacks.
enum ErasureLedger {
    static func sidecar(of vaultPath: String) -> String { vaultPath + ".erasures" }

    static func record(_ entry: ErasureLedgerEntry, db: Database) throws {
        try db.execute(sql: """
            INSERT INTO erasure_ledger (customer_id, erased_at, principal, purpose, transactions, removed) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [entry.customer, entry.erasedAt, entry.principal, entry.purpose, entry.transactions,
                             String(decoding: try JSONEncoder().encode(entry.removed), as: UTF8.self)])
    }

    /// The ledger inside a vault database.
    static func entries(_ db: Database, vaultID: String) throws -> [ErasureLedgerEntry] {
        guard try db.tableExists("erasure_ledger") else { return [] }
        return try Row.fetchAll(db, sql: "SELECT * FROM erasure_ledger ORDER BY seq").map { row in
            ErasureLedgerEntry(vaultID: vaultID, customer: row["customer_id"], erasedAt: row["erased_at"], principal: row["principal"],
                               purpose: row["purpose"], transactions: row["transactions"],
                               removed: (try? JSONDecoder().decode(ErasureCounts.self, from: Data((row["removed"] as String).utf8))) ?? ErasureCounts())
        }
    }

    /// Appends entries to a sidecar file (created with mode 0600) and syncs it.
    static func append(_ entries: [ErasureLedgerEntry], toSidecar path: String) throws {
        guard !entries.isEmpty else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VaultError.io("cannot open the erasure ledger \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var bytes: [UInt8] = []
        for entry in entries { bytes += Array(try encoder.encode(entry)) + [0x0A] }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw VaultError.io("cannot write the erasure ledger \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads a sidecar file; a malformed line is an error naming it (a ledger is never half-read).
    static func read(sidecar path: String) throws -> [ErasureLedgerEntry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else { throw VaultError.io("cannot read the erasure ledger \(path)") }
        var entries: [ErasureLedgerEntry] = []
        for (number, line) in data.split(separator: 0x0A).enumerated() where !line.isEmpty {
            do {
                entries.append(try JSONDecoder().decode(ErasureLedgerEntry.self, from: Data(line)))
            } catch {
                throw VaultError.integrity("\(path):\(number + 1): not an erasure ledger entry")
            }
        }
        return entries
    }
}

extension CustomerVault {
    /// Removes every personal value of a customer: sealed values, blind-index entries, interactions
    /// (with their free text) and behaviour counters; transactions are removed or kept without any
    /// personal value; the customer row stays as an empty tombstone so the id is never reused.
    static func applyErasure(_ id: Int64, keepTransactions: Bool, at now: String, db: Database) throws -> ErasureCounts {
        var counts = ErasureCounts()
        try db.execute(sql: "DELETE FROM sealed_values WHERE entity = 'customers' AND record_id = ?", arguments: [id])
        counts.sealedValues += db.changesCount
        for table in ["blind_indexes", "unique_indexes"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE customer_id = ?", arguments: [id])
            counts.indexEntries += db.changesCount
        }
        counts.interactions = try Int.fetchOne(db, sql: "SELECT count(*) FROM interactions WHERE customer_id = ?", arguments: [id]) ?? 0
        try db.execute(sql: "DELETE FROM interactions WHERE customer_id = ?", arguments: [id])  // a trigger drops their sealed values
        counts.transactions = try Int.fetchOne(db, sql: "SELECT count(*) FROM transactions WHERE customer_id = ?", arguments: [id]) ?? 0
        if keepTransactions {
            try db.execute(sql: "DELETE FROM sealed_values WHERE entity = 'transactions' AND record_id IN (SELECT id FROM transactions WHERE customer_id = ?)",
                           arguments: [id])
            counts.sealedValues += db.changesCount
        } else {
            try db.execute(sql: "DELETE FROM transactions WHERE customer_id = ?", arguments: [id])
        }
        try db.execute(sql: "DELETE FROM behaviour WHERE customer_id = ?", arguments: [id])
        counts.behaviour = db.changesCount
        try db.execute(sql: "DELETE FROM consent_events WHERE customer_id = ?", arguments: [id])
        try db.execute(sql: "UPDATE customers SET attributes = '{}', erased_at = ?, updated_at = ? WHERE id = ?", arguments: [now, now, id])
        return counts
    }
}
