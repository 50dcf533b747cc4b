package import Foundation
import GRDB
package import VaultStore
import VaultSQLite

/// The vault file as an attacker with the file sees it: opened with SQLite directly, past the
/// library and its checks. Attack tests read and edit the file through it; it is the one place
/// outside the SQLite store that speaks SQL (StorageBoundaryTests exempts it by path), so the tests
/// themselves say what they do to the file, not how, and no test holds SQL.
package struct VaultFileInspector {
    let writer: any DatabaseWriter

    /// Opens the file at `path` on a connection of its own (another process, as far as the vault knows).
    /// - Parameters:
    ///   - readOnly: for checks of a file another process may be writing or recovering.
    ///   - foreignKeys: off for edits that must land even where a constraint would refuse them.
    ///   - busyTimeout: waits up to that many seconds for another process's lock.
    package init(_ path: String, readOnly: Bool = false, foreignKeys: Bool = true, busyTimeout: TimeInterval? = nil) throws {
        var configuration = Configuration()
        configuration.readonly = readOnly
        configuration.foreignKeysEnabled = foreignKeys
        if let busyTimeout { configuration.busyMode = .timeout(busyTimeout) }
        writer = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Uses the open vault's own connections, for what only they show (their settings).
    package init(store: any VaultStore) throws {
        guard let store = store as? SQLiteStore else { throw InspectorError("not an SQLite store") }
        writer = try store.pool
    }

    /// Copies the open vault's file to `path` as SQLite's backup does (needs `init(store:)`).
    package func snapshot(to path: String) throws {
        guard let pool = writer as? DatabasePool else { throw InspectorError("a snapshot needs the vault's own pool") }
        try VaultDatabase.snapshot(pool, to: path)
    }

    /// Closes a connection of its own (the vault's pool stays open).
    package func close() throws {
        if let queue = writer as? DatabaseQueue { try queue.close() }
    }

    /// The store's own protocol on the file, without the library's checks around it: what a holder
    /// of the record key can do to rows (re-tag them after an edit).
    package func storeTransaction<T>(_ body: (any StoreWriting) throws -> T) throws -> T {
        try writer.write { db in try body(SQLiteTransaction(inspecting: db)) }
    }

    /// The store's own protocol reading the file: records as the library would load them, unchecked.
    package func storeRead<T>(_ body: (any StoreReading) throws -> T) throws -> T {
        try writer.read { db in try body(SQLiteTransaction(inspecting: db)) }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T { try writer.read(body) }
    func write<T>(_ body: (Database) throws -> T) throws -> T { try writer.write(body) }

    /// `read`, or for SQL naming the per-value view `sealed_values`, with that view built first.
    func reading<T>(_ table: String, _ body: (Database) throws -> T) throws -> T {
        Self.needsSealedValues(table) ? try withSealedValues(writing: false, body) : try read(body)
    }

    /// `write`, packing edits of the per-value view `sealed_values` back into the records' rows.
    func writing<T>(_ table: String, _ body: (Database) throws -> T) throws -> T {
        Self.needsSealedValues(table) ? try withSealedValues(writing: true, body) : try write(body)
    }
}

package struct InspectorError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Rows by table, column and filter

extension VaultFileInspector {
    /// How many rows of `table` the filter picks.
    package func count(_ table: String, where filter: Filter = [:]) throws -> Int {
        let (clause, arguments) = Self.clause(filter)
        return try reading(table) { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(Self.quoted(table))\(clause)", arguments: arguments) ?? 0 }
    }

    /// The rows of `table` the filter picks, with `columns` (every column when empty), in `order`.
    package func rows(_ table: String, columns: [String] = [], where filter: Filter = [:], orderBy order: [String] = [],
                      descending: Bool = false, limit: Int? = nil) throws -> [FileRow] {
        let (clause, arguments) = Self.clause(filter)
        let selected = columns.isEmpty ? "*" : columns.map(Self.quoted).joined(separator: ", ")
        let ordering = order.isEmpty ? "" : " ORDER BY " + order.map { Self.quoted($0) + (descending ? " DESC" : "") }.joined(separator: ", ")
        let limited = limit.map { " LIMIT \($0)" } ?? ""
        return try reading(table) { db in
            try Row.fetchAll(db, sql: "SELECT \(selected) FROM \(Self.quoted(table))\(clause)\(ordering)\(limited)", arguments: arguments)
                .map(FileRow.init)
        }
    }

    /// The first row the filter picks, or nil.
    package func row(_ table: String, columns: [String] = [], where filter: Filter = [:], orderBy order: [String] = [],
                     descending: Bool = false) throws -> FileRow? {
        try rows(table, columns: columns, where: filter, orderBy: order, descending: descending, limit: 1).first
    }

    /// `column` of the rows the filter picks, in `order`.
    package func values(_ column: String, in table: String, where filter: Filter = [:], orderBy order: [String] = []) throws -> [Cell] {
        try rows(table, columns: [column], where: filter, orderBy: order).map { $0.cells[0] }
    }

    /// `column` of the first row the filter picks; nil when it picks none.
    package func value(_ column: String, in table: String, where filter: Filter = [:]) throws -> Cell? {
        try rows(table, columns: [column], where: filter, limit: 1).first?.cells[0]
    }

    /// The largest value of an integer column (nil for an empty table).
    package func largest(_ column: String, in table: String) throws -> Int64? {
        try reading(table) { try Int64.fetchOne($0, sql: "SELECT max(\(Self.quoted(column))) FROM \(Self.quoted(table))") }
    }

    /// Sets columns of the rows the filter picks; returns how many rows changed.
    @discardableResult
    package func update(_ table: String, set values: [String: any CellConvertible], where filter: Filter) throws -> Int {
        let columns = values.keys.sorted()
        let (clause, arguments) = Self.clause(filter)
        let assignments = columns.map { "\(Self.quoted($0)) = ?" }.joined(separator: ", ")
        return try writing(table) { db in
            try db.execute(sql: "UPDATE \(Self.quoted(table)) SET \(assignments)\(clause)",
                           arguments: StatementArguments(columns.map { values[$0]!.cell.databaseValue }) + arguments)
            return db.changesCount
        }
    }

    /// Deletes the rows the filter picks; returns how many went.
    @discardableResult
    package func delete(from table: String, where filter: Filter) throws -> Int {
        let (clause, arguments) = Self.clause(filter)
        return try writing(table) { db in
            try db.execute(sql: "DELETE FROM \(Self.quoted(table))\(clause)", arguments: arguments)
            return db.changesCount
        }
    }

    /// Inserts one row.
    package func insert(into table: String, _ values: [String: any CellConvertible]) throws {
        let columns = values.keys.sorted()
        try writing(table) { db in
            try db.execute(sql: "INSERT INTO \(Self.quoted(table)) (\(columns.map(Self.quoted).joined(separator: ", "))) "
                                + "VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))",
                           arguments: StatementArguments(columns.map { values[$0]!.cell.databaseValue }))
        }
    }

    /// The next id of a table whose ids the attacker picks (one above the largest).
    package func nextID(in table: String) throws -> Int64 { (try largest("id", in: table) ?? 0) + 1 }

    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func clause(_ filter: Filter) -> (String, StatementArguments) {
        guard !filter.isEmpty else { return ("", []) }
        var terms: [String] = [], arguments: [DatabaseValue] = []
        for column in filter.keys.sorted() {
            let name = quoted(column)
            switch filter[column]! {
            case .equal(let cell): terms.append("\(name) = ?"); arguments.append(cell.databaseValue)
            case .notEqual(let cell): terms.append("\(name) <> ?"); arguments.append(cell.databaseValue)
            case .greaterOrEqual(let cell): terms.append("\(name) >= ?"); arguments.append(cell.databaseValue)
            case .greater(let cell): terms.append("\(name) > ?"); arguments.append(cell.databaseValue)
            case .less(let cell): terms.append("\(name) < ?"); arguments.append(cell.databaseValue)
            case .member(let cells):
                terms.append("\(name) IN (\(cells.map { _ in "?" }.joined(separator: ", ")))")
                arguments += cells.map(\.databaseValue)
            case .null: terms.append("\(name) IS NULL")
            case .notNull: terms.append("\(name) IS NOT NULL")
            }
        }
        return (" WHERE " + terms.joined(separator: " AND "), StatementArguments(arguments))
    }
}

extension Cell {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let n): n.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        case .blob(let d): d.databaseValue
        }
    }

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let n): self = .integer(n)
        case .double(let d): self = .real(d)
        case .string(let s): self = .text(s)
        case .blob(let d): self = .blob(d)
        }
    }
}

extension FileRow {
    init(_ row: Row) {
        self.init(columns: Array(row.columnNames), cells: row.databaseValues.map(Cell.init))
    }
}
