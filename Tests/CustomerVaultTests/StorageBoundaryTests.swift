import Foundation
import Testing
import VaultTestSupport

/// SQL and GRDB belong to the SQLite store alone (issue #19): the services, the core, the CLI and
/// the behavioural tests speak the store's protocol, so a second store (PostgreSQL) or a test double
/// can stand in without touching them. The scan goes line by line (a statement split across lines
/// is caught by its first line's `SELECT … FROM` or keyword pair only when they share a line);
/// targets outside the store that do not depend on GRDB cannot compile SQL calls in any case.
@Suite("Only the SQLite store speaks SQL")
struct StorageBoundaryTests {
    /// Where SQL may be, and why.
    static let exempt = [
        // The SQLite store and its own tests.
        "Sources/VaultSQLite/", "Tests/VaultSQLiteTests/",
        // The benchmark's peers: plain SQLite and SQLCipher are what the vault is measured against.
        "Benchmarks/Sources/cvault-bench/Floors.swift", "Benchmarks/Sources/cvault-bench/Peers.swift",
        // The inspector attack tests use to read and write the vault file as an attacker would.
        "Tests/VaultFileInspector/",
        // This scan: its patterns and the samples it must catch.
        "Tests/CustomerVaultTests/StorageBoundaryTests.swift",
    ]
    static let scanned = ["Sources", "Tests", "Benchmarks/Sources"]

    static let patterns: [(String, String)] = [
        ("imports GRDB or SQLite", #"^\s*(@testable\s+)?(public\s+|package\s+|internal\s+)?import\s+(GRDB|GRDBSQLite|SQLite3|CSQLite)\b"#),
        ("calls SQLite's C API", #"\bsqlite3_[a-z0-9_]+\s*\("#),
        // The GRDB connection inside a store transaction (internal to the store since #19).
        ("reaches the SQLite connection", #"\btx\.db\b|\bSQLiteTransaction\("#),
        ("writes SQL", #"\b(SELECT\b.*\bFROM\b|INSERT\s+(OR\s+[A-Z]+\s+)?INTO\b|UPDATE\s+[a-z_]+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(TEMP\s+|UNIQUE\s+)?(TABLE|INDEX|TRIGGER|VIEW)\b|DROP\s+(TABLE|INDEX|TRIGGER|VIEW)\b|ALTER\s+TABLE\b|PRAGMA\s+[a-z_]+|\bsqlite_(master|schema|sequence)\b)"#),
    ]

    /// What each scanned file says in SQL (comment lines are prose, not SQL).
    static func offenders() throws -> [String: [String]] {
        var found: [String: [String]] = [:]
        for file in try SourceTree.swiftFiles(under: scanned) where !exempt.contains(where: file.path.hasPrefix) {
            for (number, line) in file.lines.enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard !trimmed.hasPrefix("//") else { continue }
                for (what, pattern) in patterns where line.range(of: pattern, options: .regularExpression) != nil {
                    found[file.path, default: []].append("\(number + 1): \(what): \(trimmed.prefix(100))")
                }
            }
        }
        return found
    }

    @Test("no file outside the SQLite store, its tests, the benchmark's peers and the file inspector holds SQL or imports GRDB")
    func onlyTheStoreSpeaksSQL() throws {
        let found = try Self.offenders()
        let listing = found.sorted { $0.key < $1.key }.map { "\($0.key):\n  " + $0.value.joined(separator: "\n  ") }.joined(separator: "\n")
        #expect(found.isEmpty, "SQL outside the SQLite store (put it behind the store's protocol, or for an attack in VaultFileInspector):\n\(listing)")
    }

    @Test("no source target but the SQLite store holds SQL: the library, the core, the crypto wrapper and the CLI")
    func sourcesAreClean() throws {
        let found = try Self.offenders()
        let forbidden = found.filter { $0.key.hasPrefix("Sources/") }
        let listing = forbidden.sorted { $0.key < $1.key }.map { "\($0.key):\n  " + $0.value.joined(separator: "\n  ") }.joined(separator: "\n")
        #expect(forbidden.isEmpty, "SQL in a source target other than VaultSQLite:\n\(listing)")
        #expect(!Self.exempt.contains { $0.hasPrefix("Sources/") && $0 != "Sources/VaultSQLite/" })
    }

    @Test("the scan catches each kind it looks for, and not prose")
    func scanCatches() {
        let samples = ["import GRDB", "@testable import GRDBSQLite", "    sqlite3_bind_int64(statement, 1, id)",
                       #"try db.execute(sql: "DELETE FROM customers")"#, "SELECT seq, hash FROM audit_log", "INSERT OR IGNORE INTO t VALUES (1)",
                       "UPDATE customers SET erased_at = ?", "CREATE UNIQUE INDEX x ON t(a)", "DROP TRIGGER t", "PRAGMA integrity_check",
                       "SELECT name FROM sqlite_master", "try Self.loadCustomer(id, note: note, db: tx.db)", "let tx = SQLiteTransaction(db)"]
        for sample in samples {
            #expect(Self.patterns.contains { sample.range(of: $0.1, options: .regularExpression) != nil }, "not caught: \(sample)")
        }
        for fine in ["let selected = values.filter", "a customer to update, set its fields", "delete from the vault", "import Foundation"] {
            #expect(!Self.patterns.contains { fine.range(of: $0.1, options: .regularExpression) != nil }, "false alarm: \(fine)")
        }
    }
}
