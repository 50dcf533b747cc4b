import Foundation
import GRDB
import VaultCore
package import VaultStore

extension SQLiteTransaction: ConsentReading, ConsentWriting {
    package func consentEvents(customerID: Int64) throws -> [StoredConsentEvent] {
        try Row.fetchAll(db, sql: "SELECT id, customer_id, consent, granted, at, tag FROM consent_events WHERE customer_id = ? ORDER BY id",
                         arguments: [customerID]).map { row in
            StoredConsentEvent(id: try row.checked("id"), customerID: try row.checked("customer_id"), consent: try row.checked("consent"),
                               granted: try row.checked("granted"), at: try row.checked("at"),
                               tag: (try row.checked("tag") as Data?).map { [UInt8]($0) })
        }
    }

    package func consentCustomerIDs() throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT DISTINCT customer_id FROM consent_events ORDER BY customer_id")
    }

    package func nextConsentEventID() throws -> Int64 {
        let query = try BulkStatement(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM consent_events")
        guard try query.next() else { throw VaultError.io("cannot number a consent event") }
        defer { query.reset() }
        return query.int64(0)
    }

    package func insertConsentEvent(_ event: StoredConsentEvent) throws {
        // An import stores a few per customer: bound through SQLite directly.
        let insert = try BulkStatement(db, sql: "INSERT INTO consent_events (id, customer_id, consent, granted, at, tag) VALUES (?, ?, ?, ?, ?, ?)")
        try insert.bind(1, event.id)
        try insert.bind(2, event.customerID)
        try insert.bind(3, event.consent)
        try insert.bind(4, Int64(event.granted ? 1 : 0))
        try insert.bind(5, event.at)
        try insert.bind(6, event.tag)
        _ = try insert.execute()
    }
}
