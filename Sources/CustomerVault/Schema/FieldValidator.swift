import Foundation

/// A rejected value: which field and why. The value itself is never repeated (it may be personal).
public struct FieldProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "\(field): \(reason)" }
}

/// Compiled regular expressions, shared because compiling one per row would dominate imports.
enum NSRegularExpressionCache {
    private static let cache = Mutex<[String: NSRegularExpression]>([:])

    static func compile(_ pattern: String) throws -> NSRegularExpression {
        if let hit = cache.withLock({ $0[pattern] }) { return hit }
        let regex = try NSRegularExpression(pattern: pattern)
        cache.withLock { $0[pattern] = regex }
        return regex
    }

    static func fullMatch(_ pattern: String, _ value: String) -> Bool {
        guard let regex = try? compile(pattern) else { return false }
        let range = NSRange(value.startIndex..., in: value)
        guard let match = regex.firstMatch(in: value, range: range) else { return false }
        return match.range == range
    }
}

/// Validates and canonicalises field values against the schema.
struct FieldValidator: Sendable {
    let schema: Schema
    /// Today's date in UTC as YYYY-MM-DD, fixed per validator so a batch is judged consistently.
    let today: String

    init(schema: Schema, now: Date = Date()) {
        self.schema = schema
        self.today = Timestamps.day(now)
    }

    /// Returns the canonical stored form of `raw` for `field`, or throws the reason it is refused.
    func canonical(_ raw: String, for field: FieldSchema) throws(FieldProblem) -> String {
        func refuse(_ reason: String) -> FieldProblem { FieldProblem(field: field.name, reason: reason) }
        let trimmed = raw.trimmedWhitespace.canonicallyComposed
        let value: String
        switch field.type {
        case .text:
            // Line breaks and tabs are whitespace (a postal address may span lines); other control
            // characters have no place in a value. Long free text keeps its lines; short fields fold them.
            if trimmed.unicodeScalars.contains(where: { $0.isControlFast && $0 != "\n" && $0 != "\t" && $0 != "\r" }) {
                throw refuse("contains control characters")
            }
            value = field.maxLength > 1_000 ? trimmed : trimmed.collapsingWhitespace
        case .email:
            guard let email = Normalization.email(trimmed) else { throw refuse("is not a valid e-mail address") }
            value = email
        case .phone:
            guard let phone = Normalization.phone(trimmed, defaultCountryCode: schema.phoneDefaultCountryCode) else {
                throw refuse("is not a valid phone number (digits, spaces, + ( ) - . only; 7 to 15 digits)")
            }
            value = phone
        case .integer:
            guard let number = Int(trimmed) else { throw refuse("must be a whole number") }
            try checkRange(Double(number), field)
            value = String(number)
        case .decimal:
            guard trimmed.range(of: #"^-?[0-9]{1,15}(\.[0-9]{1,6})?$"#, options: .regularExpression) != nil,
                  let number = Double(trimmed) else { throw refuse("must be a decimal number such as 12.50") }
            try checkRange(number, field)
            value = trimmed
        case .boolean:
            switch trimmed.lowercased() {
            case "true", "yes", "1": value = "true"
            case "false", "no", "0": value = "false"
            default: throw refuse("must be true or false")
            }
        case .date:
            guard let day = Timestamps.parseDay(trimmed) else { throw refuse("must be a date written YYYY-MM-DD") }
            if field.name == "birth_date" {
                guard day <= today, day >= "1890-01-01" else { throw refuse("must be between 1890-01-01 and today") }
            }
            value = day
        case .timestamp:
            guard let timestamp = Timestamps.parseInstant(trimmed) else {
                throw refuse("must be an ISO 8601 time such as 2025-03-04T10:22:01Z")
            }
            value = timestamp
        case .enumeration(let allowed):
            guard let match = allowed.first(where: { $0.equalsIgnoringCase(trimmed) }) else {
                throw refuse("must be one of \(allowed.joined(separator: ", "))")
            }
            value = match
        }
        guard !value.isEmpty else { throw refuse("is empty") }
        guard value.unicodeScalars.count <= field.maxLength else {
            throw refuse("is longer than \(field.maxLength) characters")
        }
        if let pattern = field.pattern, !NSRegularExpressionCache.fullMatch(pattern, value) {
            throw refuse("does not match the pattern the schema requires")
        }
        return value
    }

    private func checkRange(_ number: Double, _ field: FieldSchema) throws(FieldProblem) {
        if let minimum = field.minimum, number < minimum {
            throw FieldProblem(field: field.name, reason: "must be at least \(Self.format(minimum))")
        }
        if let maximum = field.maximum, number > maximum {
            throw FieldProblem(field: field.name, reason: "must be at most \(Self.format(maximum))")
        }
    }

    private static func format(_ number: Double) -> String {
        number == number.rounded() ? String(Int(number)) : String(number)
    }

    /// Validates a whole record: unknown fields, required fields, each value.
    ///
    /// Empty strings mean "absent". Returns the canonical values of the present fields.
    func validateRecord(_ values: [String: String], entity: Entity, requireAll: Bool = true) throws(FieldProblem) -> [String: String] {
        var result: [String: String] = [:]
        for (name, raw) in values {
            guard let field = schema.field(entity, name) else {
                throw FieldProblem(field: name, reason: "is not a field of \(entity.rawValue) in the schema")
            }
            if raw.unicodeScalars.allSatisfy(\.isWhitespaceFast) { continue }
            result[name] = try canonical(raw, for: field)
        }
        if requireAll {
            for field in schema.fields(of: entity) where field.required && result[field.name] == nil {
                throw FieldProblem(field: field.name, reason: "is required")
            }
        }
        return result
    }
}
