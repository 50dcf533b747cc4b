package import GRDB
import VaultCore
package import VaultStore

/// The vault's SQLite store: one file in WAL mode (one writer, concurrent readers), opened with
/// the settings its promises depend on (``VaultDatabase``), its SQLite schema checked against what
/// the migrations create before each transaction that follows a change (``SchemaGuard``).
package final class SQLiteStore: VaultStore {
    package let path: String
    /// The GRDB pool, for services whose SQL has not moved behind the protocols yet (issue #19).
    package let pool: DatabasePool
    package let schemaGuard: SchemaGuard

    package init(path: String, pool: DatabasePool, schemaGuard: SchemaGuard) {
        self.path = path
        self.pool = pool
        self.schemaGuard = schemaGuard
    }

    /// Opens an existing vault file (see ``VaultDatabase/open(path:)``).
    package static func open(path: String) throws -> SQLiteStore {
        let (pool, schemaGuard) = try VaultDatabase.open(path: path)
        return SQLiteStore(path: path, pool: pool, schemaGuard: schemaGuard)
    }

    /// Creates a new vault file with the current migrations; refuses an existing one.
    package static func create(path: String) throws -> SQLiteStore {
        let (pool, schemaGuard) = try VaultDatabase.create(path: path)
        return SQLiteStore(path: path, pool: pool, schemaGuard: schemaGuard)
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T {
        try await pool.read { [schemaGuard] db in
            try schemaGuard.check(db)
            return try body(SQLiteTransaction(db))
        }
    }

    package func write<T: Sendable>(_ body: @escaping @Sendable (any StoreWriting) throws -> T) async throws -> T {
        try await pool.write { [schemaGuard] db in
            try schemaGuard.check(db)
            return try body(SQLiteTransaction(db))
        }
    }

    package func close() throws { try pool.close() }
}
