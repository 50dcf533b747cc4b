package import GRDB
import VaultCore
import GRDBSQLite

/// Refuses every commit once the vault file is no longer at the path it was opened from (renamed,
/// moved or deleted while open).
///
/// In WAL mode SQLite goes on committing into `OLDNAME-wal` after such a move, and a vault opened
/// at the new name never reads that WAL: writes that were acknowledged would be missing there.
/// Before each commit of the writer connection this asks SQLite's own check
/// (`SQLITE_FCNTL_HAS_MOVED`: the path names another inode, or none); when it says moved, the
/// transaction rolls back and the error says why. Then the WAL is checkpointed through the open
/// file descriptors, so the commits acknowledged before the move, which sit in the WAL named after
/// the old path, land in the moved file itself: the vault at its new path is complete
/// (`ResourceFaultTests`).
package final class MovedFileGuard: TransactionObserver, @unchecked Sendable {
    /// The writer connection this guard is installed on; it lives as long as the connection.
    private let connection: OpaquePointer
    /// Set when a commit was refused, until the rollback has checkpointed.
    private var refused = false

    package static let message = "the vault file was moved, renamed or deleted while it was open; this change was not committed "
        + "and nothing more is written to it (open the vault at its new path)"

    private init(connection: OpaquePointer) { self.connection = connection }

    /// Installs a guard on a writable connection (readers never commit).
    package static func install(on db: Database) {
        guard !db.configuration.readonly, let connection = db.sqliteConnection else { return }
        db.add(transactionObserver: MovedFileGuard(connection: connection), extent: .databaseLifetime)
    }

    /// Whether SQLite finds the main database file gone from its path.
    package static func hasMoved(_ connection: OpaquePointer) -> Bool {
        var moved: Int32 = 0
        let code = sqlite3_file_control(connection, "main", SQLITE_FCNTL_HAS_MOVED, &moved)
        return code == SQLITE_OK && moved != 0
    }

    package func databaseWillCommit() throws {
        guard Self.hasMoved(connection) else { return }
        refused = true
        throw VaultError.io(Self.message)
    }

    package func databaseDidRollback(_ db: Database) {
        guard refused else { return }
        refused = false
        try? db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
    }

    package func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    package func databaseDidChange(with event: DatabaseEvent) {}
    package func databaseDidCommit(_ db: Database) {}
}
