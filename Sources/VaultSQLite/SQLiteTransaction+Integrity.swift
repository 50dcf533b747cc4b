import Foundation
import GRDB
import GRDBSQLite
import VaultCore
package import VaultStore

extension SQLiteTransaction: StoreIntegrityReading, SavepointWriting {
    package func checkStructure() throws {
        let path = db.sqliteConnection.flatMap { sqlite3_db_filename($0, "main") }.map { String(cString: $0) } ?? "the vault file"
        _ = try StoredSchema.verify(db, path: path)
    }

    /// None: each record's sealed values are in its own row (migration v12).
    package func orphanSealedValue() throws -> (entity: String, recordID: Int64)? { nil }

    package func savepoint(_ body: () throws -> Void) throws {
        try db.inSavepoint {
            try body()
            return .commit
        }
    }
}

extension SQLiteTransaction: LegacyFormatReading, LegacyFormatWriting {
    package func holdsCurrentFormatRows() throws -> Bool {
        let current = [
            "SELECT 1 FROM data_keys WHERE tag IS NOT NULL", "SELECT 1 FROM principal_keys WHERE version > 1",
            "SELECT 1 FROM key_grants WHERE format != 1", "SELECT 1 FROM write_sessions WHERE format != 1 OR root_signature IS NOT NULL",
            "SELECT 1 FROM erasure_ledger WHERE signature IS NOT NULL", "SELECT 1 FROM customers WHERE sealed_digest IS NOT NULL",
        ] + ["customers", "transactions", "interactions", "behaviour", "consent_events", "imports", "import_rejects", "key_rotations"]
            .map { "SELECT 1 FROM \($0) WHERE tag IS NOT NULL" }
        for query in current where try Bool.fetchOne(db, sql: query + " LIMIT 1") == true { return true }
        return false
    }

    package func deleteFirstFormatGrants() throws {
        try db.execute(sql: "DELETE FROM key_grants WHERE format = 1")
    }

    package func deleteWriteSessions(field: String) throws {
        try db.execute(sql: "DELETE FROM write_sessions WHERE field = ?", arguments: [field])
    }

    package func updateErasureAttestation(_ erasure: StoredErasure) throws {
        try db.execute(sql: "UPDATE erasure_ledger SET audit_seq = ?, signed_by = ?, signature = ?, signer_proof = ? WHERE customer_id = ?",
                       arguments: [erasure.auditSeq, erasure.signedBy, erasure.signature.map { Data($0) }, erasure.signerProof, erasure.customerID])
    }

    package func setConsentEventTag(id: Int64, tag: [UInt8]) throws {
        try db.execute(sql: "UPDATE consent_events SET tag = ? WHERE id = ?", arguments: [Data(tag), id])
    }
}
