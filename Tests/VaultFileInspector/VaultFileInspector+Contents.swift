package import Foundation
import GRDB

/// What the file holds, summed up: to show that something changed nothing, that nothing is
/// half-stored, or that two files are the same.
extension VaultFileInspector {
    /// Every customer row and sealed value as text, sorted: equal before and after means unchanged.
    package func contentFingerprint() throws -> [String] {
        try reading(Self.sealedValues) { db in
            try String.fetchAll(db, sql: """
                SELECT 'c' || id || attributes FROM customers UNION ALL
                SELECT entity || record_id || field || hex(sealed) FROM sealed_values ORDER BY 1
                """)
        }
    }

    /// Every table, rows as text, sorted. The access log only up to `auditThrough` when given.
    package func dump(auditThrough: Int64? = nil) throws -> [String: [String]] {
        try read { db in
            var tables: [String: [String]] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
                let filter = table == "audit_log" && auditThrough != nil ? " WHERE seq <= \(auditThrough!)" : ""
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table)\(filter)").map { row in
                    row.databaseValues.map { "\($0)" }.joined(separator: "|")
                }.sorted()
            }
            return tables
        }
    }

    /// The tables whose rows differ from those of the file at `other`, compared row by row in a stable
    /// order (bounded memory); the access log up to `auditThrough`. "(table list)" when the files do
    /// not hold the same tables.
    package func tablesDiffering(from other: String, auditThrough: Int64) throws -> [String] {
        let right = try VaultFileInspector(other)
        defer { try? right.close() }
        let tables = try self.tables()
        var differing: [String] = try right.tables() == tables ? [] : ["(table list)"]
        for table in tables {
            let columns = try columns(of: table).count
            let order = (1...columns).map(String.init).joined(separator: ", ")
            let filter = table == "audit_log" ? " WHERE seq <= \(auditThrough)" : ""
            let sql = "SELECT * FROM \(table)\(filter) ORDER BY \(order)"
            let same = try read { l in
                try right.read { r in
                    let lc = try Row.fetchCursor(l, sql: sql), rc = try Row.fetchCursor(r, sql: sql)
                    while true {
                        let x = try lc.next(), y = try rc.next()
                        if x == nil && y == nil { return true }
                        guard let x, let y, x == y else { return false }
                    }
                }
            }
            if !same { differing.append(table) }
        }
        return differing
    }

    /// The sum of an integer column (0 for an empty table).
    package func sum(_ column: String, in table: String) throws -> Int {
        try read { try Int.fetchOne($0, sql: "SELECT coalesce(sum(\(Self.quoted(column))), 0) FROM \(Self.quoted(table))") ?? 0 }
    }

    /// The smallest value of an integer column (nil for an empty table).
    package func smallest(_ column: String, in table: String) throws -> Int64? {
        try read { try Int64.fetchOne($0, sql: "SELECT min(\(Self.quoted(column))) FROM \(Self.quoted(table))") }
    }

    /// Sealed customer values whose customer row does not exist.
    package func orphanSealedCustomerValues() throws -> Int {
        try reading(Self.sealedValues) { try Int.fetchOne($0, sql: "SELECT count(*) FROM sealed_values WHERE entity = 'customers' AND record_id NOT IN (SELECT id FROM customers)") ?? -1 }
    }

    /// Half-stored customers: sealed values or unique index entries without a customer, plus customers
    /// without a unique index entry.
    package func halfStoredCustomers() throws -> Int {
        try reading(Self.sealedValues) { db in
            try Int.fetchOne(db, sql: """
                SELECT (SELECT count(*) FROM sealed_values WHERE entity = 'customers' AND record_id NOT IN (SELECT id FROM customers))
                     + (SELECT count(*) FROM unique_indexes WHERE customer_id NOT IN (SELECT id FROM customers))
                     + (SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM unique_indexes u WHERE u.customer_id = c.id))
                """) ?? -1
        }
    }

    /// Customers missing a sealed name or e-mail, or without a unique index entry.
    package func incompleteCustomers() throws -> Int {
        try reading(Self.sealedValues) { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM customers c WHERE
                  (SELECT count(*) FROM sealed_values s WHERE s.entity = 'customers' AND s.record_id = c.id AND s.field IN ('name', 'email')) < 2
                  OR (SELECT count(*) FROM unique_indexes u WHERE u.customer_id = c.id) < 1
                """) ?? -1
        }
    }

    /// The envelopes (sealed and masked) of a customer's values and of its interactions' values.
    package func envelopes(ofCustomer customer: Int64) throws -> [(sealed: Data?, masked: Data?)] {
        try reading(Self.sealedValues) { db in
            try Row.fetchAll(db, sql: """
                SELECT sealed, masked FROM sealed_values WHERE (entity = 'customers' AND record_id = ?)
                   OR (entity = 'interactions' AND record_id IN (SELECT id FROM interactions WHERE customer_id = ?))
                """, arguments: [customer, customer]).map { ($0["sealed"] as Data?, $0["masked"] as Data?) }
        }
    }

    /// Each customer's consent events: "id consent granted at-creation" (whether it is dated at the
    /// customer's creation), by customer.
    package func consentEventsByCustomer() throws -> [String] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.id, e.consent, e.granted, e.at = c.created_at AS at_creation
                FROM consent_events e JOIN customers c ON c.id = e.customer_id ORDER BY c.id
                """).map { "\($0["id"] as Int64) \($0["consent"] as String) \($0["granted"] as Bool) \($0["at_creation"] as Bool)" }
        }
    }

    /// Interactions dated before `cutoff` (their `occurred_at`).
    package func interactions(occurredBefore cutoff: String) throws -> Int {
        try read { try Int.fetchOne($0, sql: "SELECT count(*) FROM interactions WHERE json_extract(attributes, '$.occurred_at') < ?", arguments: [cutoff]) ?? -1 }
    }

    /// Transactions dated before `cutoff` (their `order_time`).
    package func transactions(orderedBefore cutoff: String) throws -> Int {
        try read { try Int.fetchOne($0, sql: "SELECT count(*) FROM transactions WHERE json_extract(attributes, '$.order_time') < ?", arguments: [cutoff]) ?? -1 }
    }

    /// Blind index values of `field` that several customers share.
    package func sharedBlindIndexDigests(field: String) throws -> Int {
        try read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM (SELECT digest FROM blind_indexes WHERE field = ? GROUP BY digest HAVING count(*) > 1)",
                             arguments: [field]) ?? 0
        }
    }

    /// The number of index entries (blind and unique) each customer has per field: the set of counts seen.
    package func indexEntryCountsPerCustomerField() throws -> Set<Int> {
        try read { db in
            Set(try Int.fetchAll(db, sql: """
                SELECT count(*) FROM (SELECT customer_id, field FROM blind_indexes UNION ALL SELECT customer_id, field FROM unique_indexes)
                GROUP BY customer_id, field
                """))
        }
    }
}
