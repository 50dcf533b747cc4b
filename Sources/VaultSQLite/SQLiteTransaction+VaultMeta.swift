import Foundation
import GRDB
import VaultCore
package import VaultStore

extension SQLiteTransaction: VaultMetaReading, VaultMetaWriting {
    package func metaValues() throws -> [String: [UInt8]] {
        var values: [String: [UInt8]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT name, value FROM vault_meta") {
            values[try row.checked("name")] = [UInt8](try row.checked("value") as Data)
        }
        return values
    }

    package func historicPolicy(hash: String) throws -> StoredPolicy? {
        guard let row = try Row.fetchOne(db, sql: "SELECT hash, source, signature FROM policy_history WHERE hash = ?", arguments: [hash]) else {
            return nil
        }
        return StoredPolicy(hash: try row.checked("hash"), source: try row.checked("source"), signature: [UInt8](try row.checked("signature") as Data))
    }

    package func historicPolicyHashes() throws -> [String] {
        try String.fetchAll(db, sql: "SELECT hash FROM policy_history ORDER BY hash")
    }

    package func insertMeta(name: String, value: [UInt8]) throws {
        try db.execute(sql: "INSERT INTO vault_meta (name, value) VALUES (?, ?)", arguments: [name, Data(value)])
    }

    package func replaceMeta(name: String, value: [UInt8]) throws {
        try db.execute(sql: "UPDATE vault_meta SET value = ? WHERE name = ?", arguments: [Data(value), name])
        guard db.changesCount == 1 else { throw VaultError.integrity("the vault has no \(name) to replace (removed in the file?)") }
    }

    package func recordPolicy(_ policy: StoredPolicy, storedAt: String) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO policy_history (hash, source, signature, stored_at) VALUES (?, ?, ?, ?)",
                       arguments: [policy.hash, policy.source, Data(policy.signature), storedAt])
    }
}
