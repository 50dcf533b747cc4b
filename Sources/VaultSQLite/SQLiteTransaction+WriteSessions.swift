import Foundation
import GRDB
import VaultCore
package import VaultStore

/// A `write_sessions` row.
struct WriteSessionRow: FetchableRecord {
    static let columns = "id, principal_id, field, purpose, key_version, sealed_key, signature, format, policy_hash, root_signature, created_at"
    let stored: StoredWriteSession

    init(row: Row) throws {
        let id: Int64 = try row.checked("id"), keyVersion: Int64 = try row.checked("key_version")
        guard let purpose = KeyPurpose(rawValue: try row.checked("purpose")), (1...Int64(UInt32.max)).contains(keyVersion) else {
            throw VaultError.integrity("write session \(id): unknown purpose or key version")
        }
        stored = StoredWriteSession(
            id: id, principalID: try row.checked("principal_id"), field: try row.checked("field"), purpose: purpose, keyVersion: UInt32(keyVersion),
            sealedKey: [UInt8](try row.checked("sealed_key") as Data), signature: [UInt8](try row.checked("signature") as Data),
            format: try row.checked("format"), policyHash: try row.checked("policy_hash"),
            rootSignature: (try row.checked("root_signature") as Data?).map { [UInt8]($0) }, createdAt: try row.checked("created_at"))
    }
}

extension SQLiteTransaction: WriteSessionReading, WriteSessionWriting {
    package func writeSession(id: Int64) throws -> StoredWriteSession? {
        // Read once per session per handle, on the decryption path: a cached statement.
        try WriteSessionRow.fetchOne(db.cachedStatement(sql: "SELECT \(WriteSessionRow.columns) FROM write_sessions WHERE id = ?"),
                                     arguments: [id])?.stored
    }

    package func writeSessions(principalID: Int64) throws -> [StoredWriteSession] {
        try WriteSessionRow.fetchAll(db, sql: "SELECT \(WriteSessionRow.columns) FROM write_sessions WHERE principal_id = ? ORDER BY id",
                                     arguments: [principalID]).map(\.stored)
    }

    package func nextWriteSessionID() throws -> Int64 { try nextID(table: "write_sessions") }

    package func writeSessionIDs() throws -> [Int64] { try Int64.fetchAll(db, sql: "SELECT id FROM write_sessions ORDER BY id") }

    package func insertWriteSession(_ session: StoredWriteSession) throws {
        try db.execute(sql: """
            INSERT INTO write_sessions (id, principal_id, field, purpose, key_version, sealed_key, signature, created_at, format, policy_hash,
                                        root_signature)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [session.id, session.principalID, session.field, session.purpose.rawValue, session.keyVersion, Data(session.sealedKey),
                             Data(session.signature), session.createdAt, session.format, session.policyHash, session.rootSignature.map { Data($0) }])
    }

    package func setWriteSessionSignature(id: Int64, signature: [UInt8]) throws {
        try db.execute(sql: "UPDATE write_sessions SET signature = ? WHERE id = ?", arguments: [Data(signature), id])
    }

    package func setWriteSessionRootSignature(id: Int64, signature: [UInt8]) throws {
        try db.execute(sql: "UPDATE write_sessions SET root_signature = ? WHERE id = ?", arguments: [Data(signature), id])
    }

    package func deleteWriteSessions(field: String, below version: UInt32) throws {
        try db.execute(sql: "DELETE FROM write_sessions WHERE field = ? AND key_version < ?", arguments: [field, version])
    }
}
