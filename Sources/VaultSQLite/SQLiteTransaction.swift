package import GRDB
import VaultCore
import VaultStore

/// One transaction on the vault's SQLite file, speaking the store's protocols.
///
/// `db` is the GRDB connection inside the transaction. Services still reach it directly while
/// their SQL moves here (issue #19; `StorageBoundaryTests` lists the files that still do); the
/// protocols are what they use once it has.
package struct SQLiteTransaction: StoreWriting {
    package let db: Database

    package init(_ db: Database) { self.db = db }
}

extension SQLiteTransaction {
    /// The table of a history entity (customers are not history).
    func historyTable(_ entity: Entity) throws -> String {
        guard entity != .customers else { throw VaultError.io("customers are not a history entity") }
        return entity.rawValue
    }

    /// The next id of an `AUTOINCREMENT` table: above every id it ever held (`sqlite_sequence`
    /// remembers deleted ones), so ids bound into ciphertexts and signatures are never reused.
    package func nextID(table: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: """
            SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0),
                       coalesce((SELECT max(id) FROM \(table)), 0)) + 1
            """, arguments: [table]) ?? 1
    }
}
