package import Foundation
package import GRDB
import VaultCore

/// Opens the vault's SQLite file with the settings its promises depend on.
package enum VaultDatabase {
    /// How long a connection waits for a lock held by another process before failing: 15 s, or
    /// `CVAULT_BUSY_TIMEOUT` seconds (0.05 to 600). When it runs out the operation fails, and a
    /// read returns nothing, because its access-log entry could not be written.
    package static var busyTimeout: TimeInterval {
        guard let text = ProcessInfo.processInfo.environment["CVAULT_BUSY_TIMEOUT"], let seconds = Double(text), seconds.isFinite else {
            return 15
        }
        return min(600, max(0.05, seconds))
    }

    /// Applies the durability settings to the pool's writer connection.
    ///
    /// `DatabasePool` switches its writer to `synchronous = NORMAL` after `prepareDatabase` runs
    /// (GRDB's WAL set-up), which may lose the last commits on power loss. The vault promises
    /// `FULL`, so it is set again here, after the pool exists, and checked.
    package static func enforceDurability(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else {
                throw VaultError.io("SQLite refused synchronous = FULL")
            }
        }
    }

    package static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(busyTimeout)
        config.label = "cvault"
        config.prepareDatabase { db in
            // FULL: a committed transaction survives power loss in WAL mode.
            // secure_delete: freed pages are zeroed, so deleted envelopes do not linger.
            // temp_store: sorts and temporary indexes stay in memory, never in temp files.
            try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY")
            MovedFileGuard.install(on: db)
        }
        return config
    }

    /// Opens an existing vault file, after checking that its SQLite schema is exactly what the
    /// migrations it records create (``StoredSchema``), then migrates it.
    ///
    /// - Returns: The pool, and the guard that re-checks the schema in each transaction.
    /// - Throws: ``VaultError`` `.notFound` when there is no file, `.integrity` when it is not a vault
    ///   or holds objects cvault did not create.
    package static func open(path: String, progress: Migrations.Progress? = nil) throws -> (pool: DatabasePool, schemaGuard: SchemaGuard) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw VaultError.notFound("no vault at \(path)", remedy: .createVault)
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw VaultError.invalidInput("\(path) is a directory, not a vault file (give the vault's file)", remedy: .createVault)
        }
        try refuseForeignFile(path)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration())
            try enforceDurability(pool)
            try pool.read { db in
                guard try db.tableExists("vault_meta") else {
                    throw VaultError.invalidInput("\(path) is not a vault (an SQLite database without a vault's tables)", hint: "check the path")
                }
                // Before anything runs a statement that a planted trigger could hook, the migration included.
                try StoredSchema.verify(db, path: path)
            }
        } catch let error as VaultError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
            throw VaultError.integrity("\(path) is not a cvault vault or is corrupt")
        } catch {
            if let problem = writeProblem(path) {
                throw VaultError.io("cannot open vault \(path): \(problem); the vault writes its access log even to read, so it needs "
                    + "write access to the vault file and its directory", remedy: .verifyAuditLog)
            }
            throw VaultError.io("cannot open vault \(path): \(VaultDatabase.describe(error))")
        }
        do {
            try migrate(pool, progress: progress)
            let version = try pool.read { db in try StoredSchema.verify(db, path: path) }
            return (pool, SchemaGuard(path: path, verifiedVersion: version))
        } catch {
            try? pool.close()
            throw error
        }
    }

    /// Why the vault file or its directory cannot be written (read-only file system, permissions), if so.
    package static func writeProblem(_ path: String) -> String? {
        if access(path, W_OK) != 0 { return "the vault file is not writable (\(String(cString: strerror(errno))))" }
        let directory = (path as NSString).deletingLastPathComponent
        if access(directory.isEmpty ? "." : directory, W_OK) != 0 {
            return "the vault's directory is not writable (\(String(cString: strerror(errno))))"
        }
        return nil
    }

    /// Creates a new, empty vault file; refuses to touch an existing one.
    package static func create(path: String) throws -> (pool: DatabasePool, schemaGuard: SchemaGuard) {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw VaultError.conflict("\(path) already exists; refusing to overwrite it")
        }
        // Created 0600 whatever the umask (SQLite gives the -wal and -shm files the same mode), and
        // never through a symbolic link planted at the path.
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VaultError.io("cannot create vault \(path): \(String(cString: strerror(errno)))") }
        close(fd)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration())
            try enforceDurability(pool)
            try migrate(pool)
            let version = try pool.read { db in try StoredSchema.verify(db, path: path) }
            return (pool, SchemaGuard(path: path, verifiedVersion: version))
        } catch {
            throw VaultError.io("cannot create vault \(path): \(VaultDatabase.describe(error))")
        }
    }

    /// Writes a consistent snapshot of the vault into the new, empty file at `path` with SQLite's
    /// online backup API, from a reader connection inside one read transaction: it sees every
    /// transaction committed before it started and none after, while writers go on. (Faster than
    /// `VACUUM INTO`, which rebuilds every B-tree; freed pages are copied, zeroed by `secure_delete`.)
    package static func snapshot(_ pool: DatabasePool, to path: String) throws {
        do {
            // A temporary file, deleted after the backup is sealed, never opened as a vault after a
            // crash: no journal and no syncs (the backup file itself is synced).
            var config = Configuration()
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF") }
            let destination = try DatabaseQueue(path: path, configuration: config)
            defer { try? destination.close() }
            try pool.backup(to: destination)
        } catch {
            throw VaultError.io("cannot take a snapshot of the vault: \(describe(error))")
        }
    }

    /// A plain read-only connection to a vault file that is not open as a vault (a restored or
    /// replaced file), for checks that need no keys.
    /// Refuses a file that is not a vault before a pool opens it (which would turn an empty or
    /// foreign SQLite file into a WAL database). It is looked at through SQLite, read-only and
    /// immutable, never with a file descriptor of our own: closing one would drop the POSIX locks
    /// that other connections of this process hold on the file.
    package static func refuseForeignFile(_ path: String) throws {
        let escaped = path.unicodeScalars.map { "%?#".unicodeScalars.contains($0) ? String(format: "%%%02X", $0.value) : String($0) }.joined()
        do {
            let probe = try readOnly("file:\(escaped)?immutable=1")
            let hasMeta = try probe.read { try $0.tableExists("vault_meta") }
            // With commits waiting in the WAL an immutable reader may not see them: no verdict then.
            let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            if !hasMeta && walBytes == 0 {
                throw VaultError.invalidInput("\(path) is not a vault (an SQLite database without a vault's tables)", hint: "check the path")
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw VaultError.invalidInput("\(path) is not a vault (not an SQLite database)",
                                          hint: "check the path; a vault damaged at its start is restored from a backup", remedy: .restoreBackup)
        } catch let error as VaultError {
            throw error
        } catch {
            return  // anything else is for the pool to report
        }
    }

    /// With `mappedBytes`, reads go through a memory map of up to that many bytes instead of
    /// `read` calls and SQLite's page cache (a whole-file scan such as `integrity_check` takes
    /// about two thirds of the time); only for a file no other writer changes meanwhile.
    package static func readOnly(_ path: String, mappedBytes: Int = 0) throws -> DatabaseQueue {
        var config = Configuration()
        config.readonly = true
        if mappedBytes > 0 {
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = \(mappedBytes)") }
        }
        return try DatabaseQueue(path: path, configuration: config)
    }

    /// A read-only connection to a vault on read-only media, for `audit verify` (which writes nothing).
    /// SQLite cannot create the WAL index there, so the file is opened as immutable, which is only
    /// right when no commits wait in its WAL.
    package static func readOnlyVault(_ path: String) throws -> DatabaseQueue {
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        guard walBytes == 0 else {
            throw VaultError.io("cannot read vault \(path) on read-only storage: commits wait in its -wal file; copy the vault "
                + "with its -wal file to writable storage and run the command there")
        }
        let escaped = path.unicodeScalars.map { "%?#".unicodeScalars.contains($0) ? String(format: "%%%02X", $0.value) : String($0) }.joined()
        do {
            let queue = try readOnly("file:\(escaped)?immutable=1")
            try queue.read { db in
                guard try db.tableExists("vault_meta") else {
                    throw VaultError.invalidInput("\(path) is not a vault (an SQLite database without a vault's tables)", hint: "check the path")
                }
                try StoredSchema.verify(db, path: path)
            }
            return queue
        } catch let error as VaultError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT {
            throw VaultError.integrity("\(path) is not a cvault vault or is corrupt")
        } catch {
            throw VaultError.io("cannot read vault \(path) read-only: \(describe(error))")
        }
    }

    /// Checks a file restored from a backup before it may become a vault: SQLite's own
    /// `integrity_check`, a vault id equal to `vaultID`, and only migrations this build knows.
    package static func checkRestored(path: String, vaultID: [UInt8]) throws {
        do {
            // The restored file is this process's own (created exclusively, written and closed).
            let queue = try readOnly(path, mappedBytes: 1 << 40)
            defer { try? queue.close() }
            try queue.read { db in
                let problems = try String.fetchAll(db, sql: "PRAGMA integrity_check")
                guard problems == ["ok"] else {
                    throw VaultError.integrity("the restored database fails SQLite's integrity check: \(problems.prefix(3).joined(separator: "; "))")
                }
                guard try db.tableExists("vault_meta"), try db.tableExists("grdb_migrations") else {
                    throw VaultError.integrity("the backup does not hold a cvault vault")
                }
                let stored = try Data.fetchOne(db, sql: "SELECT value FROM vault_meta WHERE name = 'vault_id'")
                guard let stored, [UInt8](stored) == vaultID else {
                    throw VaultError.integrity("the restored database names another vault id than its backup header")
                }
                let known = Set(Migrations.migrator.migrations)
                let unknown = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").filter { !known.contains($0) }
                guard unknown.isEmpty else {
                    throw VaultError(.unsupported, "the backup was made by a newer cvault (schema \(unknown.joined(separator: ", "))); restore it with that version")
                }
                try StoredSchema.verify(db, path: "the restored database")
            }
        } catch let error as VaultError {
            throw error
        } catch {
            throw VaultError.integrity("the restored database cannot be read: \(describe(error))")
        }
    }

    package static func migrate(_ pool: DatabasePool, progress: Migrations.Progress? = nil) throws {
        do {
            try Migrations.migrator(progress: progress).migrate(pool)
        } catch {
            throw VaultError.io("cannot migrate the vault: \(describe(error))")
        }
    }

    /// An SQLite error without SQL arguments (GRDB leaves them out by default; keep it that way).
    package static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            let base = "SQLite error \(error.resultCode.rawValue): \(error.message ?? "unknown")"
            if error.extendedResultCode == .SQLITE_READONLY_DBMOVED {
                return "SQLite error \(error.resultCode.rawValue): \(MovedFileGuard.message)"
            }
            switch error.resultCode.primaryResultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return base + " (another process holds the vault's write lock; waited \(busyTimeout) s, see CVAULT_BUSY_TIMEOUT)"
            case .SQLITE_READONLY:
                return base + " (the vault writes its access log even to read, so it needs write access to the vault file and its directory)"
            case .SQLITE_FULL:
                return base + " (the file system is full)"
            default:
                return base
            }
        }
        return String(describing: type(of: error))
    }
}
