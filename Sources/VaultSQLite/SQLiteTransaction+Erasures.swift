import Foundation
import GRDB
package import VaultCore
package import VaultStore

extension SQLiteTransaction: ErasureReading, ErasureWriting {
    package func erasures() throws -> [StoredErasure] {
        // A vault read as it is on read-only media may predate the ledger or its signatures.
        guard try db.tableExists("erasure_ledger") else { return [] }
        let signed = try db.columns(in: "erasure_ledger").contains { $0.name == "signature" }
        return try Row.fetchAll(db, sql: "SELECT * FROM erasure_ledger ORDER BY seq").map { row in
            StoredErasure(customerID: try row.checked("customer_id"), erasedAt: try row.checked("erased_at"), principal: try row.checked("principal"),
                          purpose: try row.checked("purpose"), transactions: try row.checked("transactions"), removed: try row.checked("removed"),
                          auditSeq: signed ? try row.checked("audit_seq") : nil, signedBy: signed ? try row.checked("signed_by") : nil,
                          signature: signed ? (try row.checked("signature") as Data?).map { [UInt8]($0) } : nil,
                          signerProof: signed ? try row.checked("signer_proof") : nil)
        }
    }

    package func insertErasure(_ erasure: StoredErasure) throws {
        try db.execute(sql: """
            INSERT INTO erasure_ledger (customer_id, erased_at, principal, purpose, transactions, removed, audit_seq, signed_by, signature, signer_proof)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [erasure.customerID, erasure.erasedAt, erasure.principal, erasure.purpose, erasure.transactions, erasure.removed,
                             erasure.auditSeq, erasure.signedBy, erasure.signature.map { Data($0) }, erasure.signerProof])
    }

    package func deleteSealedEntries(_ entity: Entity, recordID: Int64) throws -> Int {
        let count = try sealedEntries(entity, recordID: recordID).count
        if count > 0 { try storeSealed([], entity: entity, recordID: recordID) }
        return count
    }

    package func deleteIndexEntries(customerID: Int64) throws -> Int {
        guard let row = try customerRow(id: customerID) else { return 0 }
        var removed = 0
        for field in row.indexDigests.fields {
            guard let entry = row.indexDigests[field] else { continue }
            for table in ["unique_indexes", "blind_indexes"] {
                removed += try deleteIndexEntry(table: table, field: field, version: entry.version, digest: entry.digest, customerID: customerID)
            }
        }
        return removed
    }

    package func deleteHistoryRows(_ entity: Entity, customerID: Int64) throws -> Int {
        // Triggers drop their sealed values and natural-key entries (migrations v1 and v9).
        try db.execute(sql: "DELETE FROM \(try historyTable(entity)) WHERE customer_id = ?", arguments: [customerID])
        return db.changesCount
    }

    package func deleteBehaviour(customerID: Int64) throws -> Int {
        try db.execute(sql: "DELETE FROM behaviour WHERE customer_id = ?", arguments: [customerID])
        return db.changesCount
    }

    package func deleteConsentEvents(customerID: Int64) throws -> Int {
        try db.execute(sql: "DELETE FROM consent_events WHERE customer_id = ?", arguments: [customerID])
        return db.changesCount
    }
}
