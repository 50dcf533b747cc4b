import Foundation
import GRDB

/// Counts and sums over plain attributes only: no personal value is opened to make them.
public struct AggregateReport: Sendable, Equatable, Codable {
    public var customers = 0
    public var byRegion: [String: Int] = [:]
    public var byAgeBand: [String: Int] = [:]
    public var transactions = 0
    /// Sum of transaction amounts per currency, as decimal text with two places.
    public var amountByCurrency: [String: String] = [:]
    public var behaviour = BehaviourCounters()
}

extension CustomerVault {
    /// Aggregates over the customers the role's row conditions admit (action `report.aggregate`).
    public func aggregateReport() async throws -> AggregateReport {
        try await perform(AccessRequest(.reportAggregate)) { db, note in
            var report = AggregateReport()
            var admitted = Set<Int64>()
            let restricted = !note.decision.rows.isUnrestricted
            let customers = try Row.fetchCursor(db, sql: "SELECT id, attributes FROM customers WHERE erased_at IS NULL")
            while let row = try customers.next() {
                let id: Int64 = row["id"]
                let attributes = try RecordCodec.decodeAttributes(row["attributes"], entity: .customers, id: id)
                guard note.admits(customerAttributes: attributes) else { continue }
                if restricted { admitted.insert(id) }
                report.customers += 1
                report.byRegion[attributes["region"] ?? "unknown", default: 0] += 1
                report.byAgeBand[attributes["age_band"] ?? "unknown", default: 0] += 1
            }
            var sums: [String: Decimal] = [:]
            let transactions = try Row.fetchCursor(db, sql: "SELECT id, customer_id, attributes FROM transactions")
            while let row = try transactions.next() {
                guard !restricted || admitted.contains(row["customer_id"]) else { continue }
                let attributes = try RecordCodec.decodeAttributes(row["attributes"], entity: .transactions, id: row["id"])
                report.transactions += 1
                if let amount = attributes["amount"].flatMap({ Decimal(string: $0) }) {
                    sums[attributes["currency"] ?? "unknown", default: 0] += amount
                }
            }
            report.amountByCurrency = sums.mapValues { String(format: "%.2f", NSDecimalNumber(decimal: $0).doubleValue) }
            let behaviour = try Row.fetchCursor(db, sql: "SELECT customer_id, browse_count, purchase_count, review_count FROM behaviour")
            while let row = try behaviour.next() {
                guard !restricted || admitted.contains(row["customer_id"]) else { continue }
                report.behaviour.browse += row["browse_count"]
                report.behaviour.purchase += row["purchase_count"]
                report.behaviour.review += row["review_count"]
            }
            note.target = "aggregate"
            note.detail = "\(report.customers) customers, \(report.transactions) transactions"
            return report
        }
    }

    /// Number of customers the role's row conditions admit (action `report.aggregate`).
    public func customerCount() async throws -> Int {
        try await perform(AccessRequest(.reportAggregate)) { db, note in
            note.target = "aggregate"
            guard !note.decision.rows.isUnrestricted else { return try Int.fetchOne(db, sql: "SELECT count(*) FROM customers WHERE erased_at IS NULL") ?? 0 }
            var count = 0
            let rows = try Row.fetchCursor(db, sql: "SELECT id, attributes FROM customers WHERE erased_at IS NULL")
            while let row = try rows.next() {
                let attributes = try RecordCodec.decodeAttributes(row["attributes"], entity: .customers, id: row["id"])
                if note.admits(customerAttributes: attributes) { count += 1 }
            }
            return count
        }
    }
}
