package import GRDB
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
