// The peers the vault is measured against: plain SQLite doing the same durable work. The SQL
// lives here (and in Floors.swift), not in the rest of the benchmark (StorageBoundaryTests).
import Foundation
import GRDB

/// The plain-SQLite peer: same e-mails in clear with an index, WAL, synchronous=FULL, and an audit
/// row inserted in the same transaction as each lookup.
func plainBaseline(emails: [String], directory: URL) throws -> (audited: [Double], selectOnly: [Double]) {
    let pool = try DatabasePool(path: directory.appendingPathComponent("plain.sqlite").path)
    // Same durability as the vault (DatabasePool defaults its writer to NORMAL).
    try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    try pool.write { db in
        try db.execute(sql: """
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, address TEXT);
            CREATE UNIQUE INDEX customers_email ON customers(email);
            CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT, principal TEXT, action TEXT, target TEXT);
            """)
        for (index, email) in emails.enumerated() {
            try db.execute(sql: "INSERT INTO customers (name, email, phone, address) VALUES (?, ?, ?, ?)",
                           arguments: ["Name \(index)", email, "+4420000\(index)", "\(index) Street"])
        }
    }
    var samples: [Double] = []
    for email in emails {
        let start = now()
        _ = try pool.write { db -> Row? in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM customers WHERE email = ?", arguments: [email])
            try db.execute(sql: "INSERT INTO audit (at, principal, action, target) VALUES (?, 'admin', 'customer.search', ?)",
                           arguments: [Date().description, row?["id"] as Int64?])
            return row
        }
        samples.append(microseconds(since: start))
    }
    // The same select without the durable audit insert: what auditing costs plain SQLite.
    var selectOnly: [Double] = []
    for email in emails {
        let start = now()
        _ = try pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM customers WHERE email = ?", arguments: [email]) }
        selectOnly.append(microseconds(since: start))
    }
    return (samples, selectOnly)
}
