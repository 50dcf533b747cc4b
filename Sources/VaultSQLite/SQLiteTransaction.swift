package import GRDB
import VaultCore
import VaultStore

/// One transaction on the vault's SQLite file, speaking the store's protocols. The GRDB
/// connection inside it is this module's alone: everything above the store sees the protocols.
package struct SQLiteTransaction: StoreWriting {
    let db: Database

    init(_ db: Database) { self.db = db }

    /// The protocols over a connection opened outside the store: only for the file inspector of
    /// attack tests (`StorageBoundaryTests` refuses this call anywhere else).
    package init(inspecting db: Database) { self.db = db }
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
