import Foundation
import VaultCore
import VaultStore

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
    func aggregateReport() async throws -> AggregateReport {
        // Rows stored before the schema named a default currency count in it too.
        let defaultCurrency = schema.field(.transactions, "currency")?.defaultValue ?? "unknown"
        return try await perform(AccessRequest(.reportAggregate)) { tx, note in
            let integrity = try note.codec.integrity
            var report = AggregateReport()
            var admitted = Set<Int64>()
            let restricted = !note.decision.rows.isUnrestricted
            try Self.forEachVisibleCustomer(note: note, integrity: integrity, in: tx) { id, attributes in
                if restricted { admitted.insert(id) }
                report.customers += 1
                report.byRegion[attributes["region"] ?? "unknown", default: 0] += 1
                report.byAgeBand[attributes["age_band"] ?? "unknown", default: 0] += 1
            }
            var sums: [String: Decimal] = [:]
            try HistoryRow.forEachVerified(.transactions, integrity: integrity, in: tx) { row in
                guard !restricted || admitted.contains(row.customerID) else { return }
                let attributes = try row.decodedAttributes()
                report.transactions += 1
                if let amount = attributes["amount"].flatMap({ Decimal(string: $0) }) {
                    sums[attributes["currency"] ?? defaultCurrency, default: 0] += amount
                }
            }
            report.amountByCurrency = sums.mapValues(Self.twoPlaces)
            try tx.forEachBehaviour { stored in
                let customerID = stored.customerID
                let range = 0...Int64(BehaviourCounters.maximum)
                guard [stored.browse, stored.purchase, stored.review].allSatisfy(range.contains) else {
                    throw VaultError.integrity("behaviour of customer \(customerID): a count is out of range (altered in the file)")
                }
                let counters = BehaviourCounters(browse: Int(stored.browse), purchase: Int(stored.purchase), review: Int(stored.review))
                try RecordIntegrity.check(stored.tag, try integrity.behaviour(customerID: customerID, counters, updatedAt: stored.updatedAt),
                                          "behaviour of customer \(customerID)")
                guard !restricted || admitted.contains(customerID) else { return }
                report.behaviour.browse += counters.browse
                report.behaviour.purchase += counters.purchase
                report.behaviour.review += counters.review
            }
            note.target = "aggregate"
            note.detail = "\(report.customers) customers, \(report.transactions) transactions"
            return report
        }
    }

    /// Calls `body` with each live customer the decision admits, every row checked against its tag.
    static func forEachVisibleCustomer(note: AuditNote, integrity: RecordIntegrity, in tx: some StoreReading,
                                       _ body: (Int64, [String: String]) throws -> Void) throws {
        try tx.forEachCustomerRow { row in
            try row.verify(integrity)
            guard row.erasedAt == nil else { return }
            let attributes = try row.decodedAttributes()
            if note.admits(customerAttributes: attributes) { try body(row.id, attributes) }
        }
    }

    /// Number of customers the role's row conditions admit (action `report.aggregate`).
    func customerCount() async throws -> Int {
        try await perform(AccessRequest(.reportAggregate)) { tx, note in
            note.target = "aggregate"
            var count = 0
            try Self.forEachVisibleCustomer(note: note, integrity: try note.codec.integrity, in: tx) { _, _ in count += 1 }
            return count
        }
    }

    /// `value` rounded half away from zero to two decimal places, as text with exactly two
    /// ("1234567890123.40"): in decimal arithmetic, so large sums keep every cent (a `Double` does not).
    static func twoPlaces(_ value: Decimal) -> String {
        var input = value, rounded = Decimal()
        NSDecimalRound(&rounded, &input, 2, .plain)
        let text = "\(rounded)"
        let parts = text.split(separator: ".", maxSplits: 1)
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        return "\(parts.first ?? "0").\(fraction.padding(toLength: 2, withPad: "0", startingAt: 0))"
    }
}
