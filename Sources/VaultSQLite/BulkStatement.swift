package import GRDB
import VaultCore
import GRDBSQLite

/// A cached statement run with SQLite's own binding and stepping calls.
///
/// Bulk paths (rotation, import) execute a few statements hundreds of thousands of times; GRDB's
/// per-argument boxing (`StatementArguments`, `DatabaseValue`, `Data`) cost more than SQLite's own
/// work there. Use it only inside an audited `perform` or `readAllowed` body, like any statement.
/// Values are bound as copies (`SQLITE_TRANSIENT`), so nothing borrowed outlives a call.
package struct BulkStatement {
    private let statement: Statement
    private let db: Database

    package init(_ db: Database, sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
        sqlite3_reset(statement.sqliteStatement)
        sqlite3_clear_bindings(statement.sqliteStatement)
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    package func bind(_ index: Int32, _ value: Int64) throws {
        try check(sqlite3_bind_int64(statement.sqliteStatement, index, value))
    }

    package func bind(_ index: Int32, _ value: String) throws {
        try check(sqlite3_bind_text(statement.sqliteStatement, index, value, -1, Self.transient))
    }

    /// Binds text, or NULL for nil.
    package func bind(_ index: Int32, optional value: String?) throws {
        guard let value else { return try check(sqlite3_bind_null(statement.sqliteStatement, index)) }
        try bind(index, value)
    }

    /// Binds bytes as a blob, or NULL for nil.
    package func bind(_ index: Int32, _ value: [UInt8]?) throws {
        guard let value else { return try check(sqlite3_bind_null(statement.sqliteStatement, index)) }
        try value.withUnsafeBytes { buffer in
            // A zero-length blob still needs a non-null pointer, or SQLite stores NULL.
            try check(sqlite3_bind_blob(statement.sqliteStatement, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                                        Int32(buffer.count), Self.transient))
        }
    }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    @discardableResult
    package func execute() throws -> Int {
        defer { sqlite3_reset(statement.sqliteStatement) }
        let code = sqlite3_step(statement.sqliteStatement)
        guard code == SQLITE_DONE else {
            throw failure(code == SQLITE_ROW ? SQLITE_MISUSE : code)
        }
        return Int(sqlite3_changes(db.sqliteConnection))
    }

    /// Steps a query: true while a row is available (read it with the column accessors), false at
    /// the end, when the statement is reset.
    package func next() throws -> Bool {
        let code = sqlite3_step(statement.sqliteStatement)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(statement.sqliteStatement)
            return false
        default:
            let error = failure(code)
            sqlite3_reset(statement.sqliteStatement)
            throw error
        }
    }

    /// Ends a query early, before its last row (also releases its read of the table).
    package func reset() { sqlite3_reset(statement.sqliteStatement) }

    package func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement.sqliteStatement, column) }

    package func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement.sqliteStatement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement.sqliteStatement, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    package func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement.sqliteStatement, column) == SQLITE_NULL }

    /// The column's bytes; empty for NULL.
    package func bytes(_ column: Int32) -> [UInt8] {
        guard let pointer = sqlite3_column_blob(statement.sqliteStatement, column) else { return [] }
        let count = Int(sqlite3_column_bytes(statement.sqliteStatement, column))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        let message = sqlite3_errmsg(db.sqliteConnection).map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}

extension Row {
    /// The value of `column` as `Value`. A file can hold any type in any column (SQLite types are
    /// dynamic): a value of another type is an integrity error naming the column, where GRDB's
    /// subscript would stop the process.
    package func checked<Value: DatabaseValueConvertible>(_ column: String) throws -> Value {
        do {
            return try decode(Value.self, forColumn: column)
        } catch {
            throw VaultError.integrity("a value of column \(column) in the file is not of the type cvault stores there (altered in the file)")
        }
    }
}
