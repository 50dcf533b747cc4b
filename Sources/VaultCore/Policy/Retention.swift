package import Foundation

/// What a retention period applies to.
public enum RetentionKind: String, Sendable, CaseIterable, Codable {
    /// Interactions, by `occurred_at`: removed with their free text.
    case interactions
    /// Transactions, by `order_time`: removed.
    case transactions
    /// Customers with no update, transaction or interaction since the cutoff: erased (ledger).
    case inactiveCustomers = "inactive_customers"
}

/// A period such as `2y`, `18m` or `90d`, counted back from a moment in UTC.
public struct RetentionPeriod: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Unit: String, Sendable, Codable { case days = "d", months = "m", years = "y" }
    public var count: Int
    public var unit: Unit

    public var description: String { "\(count)\(unit.rawValue)" }

    /// Parses `<n>d`, `<n>m` or `<n>y` with 1 ≤ n ≤ 100 years' worth.
    package static func parse(_ text: String) -> RetentionPeriod? {
        guard let last = text.last, let unit = Unit(rawValue: String(last)), let count = Int(text.dropLast()), count > 0 else { return nil }
        let limit = switch unit { case .days: 36_500; case .months: 1_200; case .years: 100 }
        return count <= limit ? RetentionPeriod(count: count, unit: unit) : nil
    }

    /// The instant `count` units before `now`, as the vault stores instants.
    package func cutoff(from now: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let component: Calendar.Component = switch unit { case .days: .day; case .months: .month; case .years: .year }
        return Timestamps.instant(calendar.date(byAdding: component, value: -count, to: now) ?? now)
    }
}
