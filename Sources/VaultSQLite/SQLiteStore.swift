package import GRDB
import VaultCore
package import VaultStore

/// The vault's SQLite store: one file in WAL mode (one writer, concurrent readers), opened with
/// the settings its promises depend on (``VaultDatabase``), its SQLite schema checked against what
/// the migrations create before each transaction that follows a change (``SchemaGuard``).
///
/// Every SQLite error leaving a transaction becomes a ``VaultError``: `.integrity` for a corrupt
/// file, `.io` for the rest, described without SQL arguments (``VaultDatabase/describe(_:)``).
package final class SQLiteStore: VaultStore {
    package let path: String
    /// The connections: a WAL pool, or one read-only connection for a vault on read-only media.
    let database: any DatabaseWriter
    /// Nil for a file opened only to be inspected (``inspect(path:)``).
    let schemaGuard: SchemaGuard?

    init(path: String, database: any DatabaseWriter, schemaGuard: SchemaGuard?) {
        self.path = path
        self.database = database
        self.schemaGuard = schemaGuard
    }

    /// The GRDB pool, for the store's own tests and the file inspector of attack tests.
    package var pool: DatabasePool {
        get throws {
            guard let pool = database as? DatabasePool else { throw VaultError.io("the vault \(path) is open read-only") }
            return pool
        }
    }

    /// Opens an existing vault file (see ``VaultDatabase/open(path:progress:)``), migrating it to
    /// the current layout first; `progress` hears of migrations that move data.
    package static func open(path: String, progress: (@Sendable (_ step: String, _ done: Int, _ total: Int) -> Void)? = nil) throws -> SQLiteStore {
        let (pool, schemaGuard) = try VaultDatabase.open(path: path, progress: progress)
        return SQLiteStore(path: path, database: pool, schemaGuard: schemaGuard)
    }

    /// Opens a vault for reading only; when it cannot be opened for writing because it sits on
    /// read-only media (or its directory is not writable), reads it as it is there
    /// (``VaultDatabase/readOnlyVault(_:)``). For work that writes nothing (`audit verify`).
    package static func openForReading(path: String) throws -> SQLiteStore {
        do {
            return try open(path: path)
        } catch let error as VaultError where error.code == .io && VaultDatabase.writeProblem(path) != nil {
            let queue = try VaultDatabase.readOnlyVault(path)
            let version = try queue.read { db in try StoredSchema.verify(db, path: path) }
            return SQLiteStore(path: path, database: queue, schemaGuard: SchemaGuard(path: path, verifiedVersion: version))
        }
    }

    /// A vault file that is not open as a vault (one a restore replaces, or has just written),
    /// read as it is through one plain read-only connection: nothing is migrated, written or
    /// checked (a damaged vault is what a restore replaces). Only for reads whose results are
    /// verified by their own signatures, or re-checked when the file is opened as a vault.
    package static func inspect(path: String) throws -> SQLiteStore {
        do {
            return SQLiteStore(path: path, database: try VaultDatabase.readOnly(path), schemaGuard: nil)
        } catch {
            throw Self.vaultError(from: error)
        }
    }

    /// Checks a file restored from a backup before it may become a vault (see
    /// ``VaultDatabase/checkRestored(path:vaultID:)``).
    package static func checkRestored(path: String, vaultID: [UInt8]) throws {
        try VaultDatabase.checkRestored(path: path, vaultID: vaultID)
    }

    /// Folds the write-ahead log of the vault file at `path`, not open here, into the file, when
    /// it can (a restore does this before replacing the file, so that a kill before the rename
    /// leaves the old vault whole). Best effort: a file too damaged for it is left as it is.
    package static func foldLog(path: String) async {
        guard let queue = try? DatabaseQueue(path: path) else { return }
        try? await queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try? queue.close()
    }

    /// Creates a new vault file with the current migrations; refuses an existing one.
    package static func create(path: String) throws -> SQLiteStore {
        let (pool, schemaGuard) = try VaultDatabase.create(path: path)
        return SQLiteStore(path: path, database: pool, schemaGuard: schemaGuard)
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T {
        do {
            return try await database.read { [schemaGuard] db in
                try schemaGuard?.check(db)
                return try body(SQLiteTransaction(db))
            }
        } catch {
            throw Self.vaultError(from: error)
        }
    }

    package func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriting) throws -> T) async throws -> T {
        do {
            return try await database.write { [schemaGuard] db in
                try schemaGuard?.check(db)
                return try body(SQLiteTransaction(db))
            }
        } catch {
            throw Self.vaultError(from: error)
        }
    }

    package func snapshot(to path: String) async throws {
        let pool = try self.pool
        try await Task.detached { try VaultDatabase.snapshot(pool, to: path) }.value
    }

    package func checkpoint() async throws {
        do {
            _ = try await database.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        } catch {
            throw Self.vaultError(from: error)
        }
    }

    package func close() throws { try database.close() }

    /// What a failure inside a transaction means to the vault.
    package static func vaultError(from error: any Error) -> any Error {
        switch error {
        case let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB:
            return VaultError.integrity("the vault file is corrupt: \(VaultDatabase.describe(error))")
        case let error as DatabaseError:
            return VaultError.io(VaultDatabase.describe(error))
        default:
            return error
        }
    }
}
