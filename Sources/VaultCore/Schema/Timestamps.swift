package import Foundation

/// Dates and instants in the fixed textual forms the vault stores (UTC, lexically ordered).
package enum Timestamps {
    private static let dayFormat: Date.ISO8601FormatStyle = .iso8601.year().month().day()

    package static func day(_ date: Date) -> String { date.formatted(dayFormat) }

    package static func now() -> String { instant(Date()) }

    package static func instant(_ date: Date) -> String { date.formatted(.iso8601) }

    /// Parses YYYY-MM-DD, refusing impossible dates such as 2023-02-30.
    package static func parseDay(_ text: String) -> String? {
        if let valid = modernDay(text) { return valid ? text : nil }
        return parseDayByFoundation(text)
    }

    /// ``parseDay(_:)`` through Foundation's ISO 8601 parser: the definition.
    package static func parseDayByFoundation(_ text: String) -> String? {
        guard text.utf8.count == 10, let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) else { return nil }
        let canonical = day(date)
        return canonical == text ? canonical : nil
    }

    /// Parses an ISO 8601 instant with `Z` or an offset and returns it in UTC with `Z`.
    package static func parseInstant(_ text: String) -> String? {
        guard case .instant(let value) = readInstant(text, zone: nil) else { return nil }
        return value
    }

    /// How a time as CRM exports write it reads.
    package enum InstantReading: Equatable {
        /// In UTC, `YYYY-MM-DDTHH:MM:SSZ` (fractions of a second are dropped).
        case instant(String)
        case malformed
        /// A date without a time of day.
        case dateOnly
        /// No zone was written and none was given to read it in.
        case needsZone
        /// A local time that the zone skips (clocks moved forward).
        case skipped(String)
    }

    /// Reads `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]` followed by `Z`, an offset (`+01:00`,
    /// `+0100`, `+01`, optionally after a space) or nothing; a time without a zone is read in
    /// `zone`. A local time that occurs twice (clocks moved back) reads as the earlier one.
    package static func readInstant(_ text: String, zone: TimeZone?) -> InstantReading {
        let bytes = Array(text.trimmedWhitespace.utf8)
        guard bytes.count <= 40 else { return .malformed }
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + count)] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += count
            return value
        }
        func take(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), take("-"), let month = digits(2), take("-"), let day = digits(2),
              year >= 1, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return .malformed }
        if index == bytes.count { return .dateOnly }
        guard take("T") || take("t") || take(" "), let hour = digits(2), take(":"), let minute = digits(2),
              hour <= 23, minute <= 59 else { return .malformed }
        var second = 0
        if take(":") {
            guard let value = digits(2), value <= 59 else { return .malformed }
            second = value
            if take(".") || take(",") {
                let start = index
                while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
                guard index > start, index - start <= 9 else { return .malformed }
            }
        }
        let local = ((daysFromCivil(year: year, month: month, day: day) * 24 + hour) * 60 + minute) * 60 + second
        if index < bytes.count, bytes[index] == 0x20 { index += 1 }
        if index == bytes.count {
            guard let zone else { return .needsZone }
            return localInstant(local, zone: zone)
        }
        if take("Z") || take("z") {
            guard index == bytes.count else { return .malformed }
            return .instant(format(epochSeconds: local))
        }
        let sign: Int
        if take("+") { sign = 1 } else if take("-") { sign = -1 } else { return .malformed }
        guard let offsetHours = digits(2), offsetHours <= 18 else { return .malformed }
        var offsetMinutes = 0
        if index < bytes.count {
            _ = take(":")
            guard let value = digits(2), value <= 59 else { return .malformed }
            offsetMinutes = value
        }
        guard index == bytes.count else { return .malformed }
        return .instant(format(epochSeconds: local - sign * (offsetHours * 3600 + offsetMinutes * 60)))
    }

    /// The UTC instant of a wall-clock time in `zone` (seconds since 1970 as if the wall clock were UTC).
    private static func localInstant(_ local: Int, zone: TimeZone) -> InstantReading {
        // The zone's offsets a day either side cover every transition but a second one within a day.
        let offsets = Set([local - 86_400, local + 86_400].map { zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval($0))) })
        let candidates = offsets.map { local - $0 }.filter { zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval($0))) == local - $0 }
        guard let earliest = candidates.min() else { return .skipped(zone.identifier) }
        return .instant(format(epochSeconds: earliest))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` of seconds since 1970 (H. Hinnant's `civil_from_days`).
    private static func format(epochSeconds: Int) -> String {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondOfDay = epochSeconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
    }

    /// The age band of someone born on `birthDay` (YYYY-MM-DD) as of `today`.
    /// The year, month and day of `YYYY-MM-DD` written with ASCII digits, or nil.
    private static func dayParts(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let bytes = text.utf8
        guard bytes.count == 10 else { return nil }
        var parts = (0, 0, 0)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 7 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard (0x30...0x39).contains(byte) else { return nil }
            let digit = Int(byte - 0x30)
            switch index {
            case ..<4: parts.0 = parts.0 * 10 + digit
            case ..<7: parts.1 = parts.1 * 10 + digit
            default: parts.2 = parts.2 * 10 + digit
            }
        }
        return parts
    }

    /// Whether `text` is a real Gregorian day, decided by arithmetic for years 1600 to 9999 (where
    /// Foundation's calendar is plainly Gregorian); nil for anything else, which Foundation judges.
    /// Parsing and formatting a `Date` per value was a tenth of an import's validation.
    /// `NormalizationFastPathTests` compares the two over every day of several centuries.
    package static func modernDay(_ text: String) -> Bool? {
        guard let (year, month, day) = dayParts(text), (1600...9999).contains(year) else { return nil }
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }

    package static func age(birthDay: String, today: String) -> Int? {
        if let b = dayParts(birthDay), let t = dayParts(today) {
            return t.year - b.year - ((t.month, t.day) < (b.month, b.day) ? 1 : 0)
        }
        let b = birthDay.split(separator: "-").compactMap { Int($0) }
        let t = today.split(separator: "-").compactMap { Int($0) }
        guard b.count == 3, t.count == 3 else { return nil }
        var age = t[0] - b[0]
        if (t[1], t[2]) < (b[1], b[2]) { age -= 1 }
        return age
    }

    /// Coarse, non-personal age bands used for aggregates.
    package static func ageBand(_ age: Int) -> String {
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
