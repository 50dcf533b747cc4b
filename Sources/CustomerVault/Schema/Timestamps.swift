import Foundation

/// Dates and instants in the fixed textual forms the vault stores (UTC, lexically ordered).
enum Timestamps {
    private static let dayFormat: Date.ISO8601FormatStyle = .iso8601.year().month().day()

    static func day(_ date: Date) -> String { date.formatted(dayFormat) }

    static func now() -> String { instant(Date()) }

    static func instant(_ date: Date) -> String { date.formatted(.iso8601) }

    /// Parses YYYY-MM-DD, refusing impossible dates such as 2023-02-30.
    static func parseDay(_ text: String) -> String? {
        guard text.utf8.count == 10, let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) else { return nil }
        let canonical = day(date)
        return canonical == text ? canonical : nil
    }

    /// Parses an ISO 8601 instant with `Z` or an offset and returns it in UTC with `Z`.
    static func parseInstant(_ text: String) -> String? {
        guard text.utf8.count <= 40, let date = try? Date(text, strategy: .iso8601) else { return nil }
        return instant(date)
    }

    /// The age band of someone born on `birthDay` (YYYY-MM-DD) as of `today`.
    static func age(birthDay: String, today: String) -> Int? {
        let b = birthDay.split(separator: "-").compactMap { Int($0) }
        let t = today.split(separator: "-").compactMap { Int($0) }
        guard b.count == 3, t.count == 3 else { return nil }
        var age = t[0] - b[0]
        if (t[1], t[2]) < (b[1], b[2]) { age -= 1 }
        return age
    }

    /// Coarse, non-personal age bands used for aggregates.
    static func ageBand(_ age: Int) -> String {
        switch age {
        case ..<18: "0-17"
        case 18...24: "18-24"
        case 25...34: "25-34"
        case 35...44: "35-44"
        case 45...54: "45-54"
        case 55...64: "55-64"
        default: "65+"
        }
    }
}
