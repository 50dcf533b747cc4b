package import Foundation

/// A rejected value: which field and why. The value itself is never repeated (it may be personal).
public struct FieldProblem: Error, Equatable, Sendable, Codable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// Compiled regular expressions, shared because compiling one per row would dominate imports.
package enum NSRegularExpressionCache {
    private static let cache = Mutex<[String: NSRegularExpression]>([:])

    package static func compile(_ pattern: String) throws -> NSRegularExpression {
        if let hit = cache.withLock({ $0[pattern] }) { return hit }
        let regex = try NSRegularExpression(pattern: pattern)
        cache.withLock { $0[pattern] = regex }
        return regex
    }

    package static func fullMatch(_ pattern: String, _ value: String) -> Bool {
        guard let regex = try? compile(pattern) else { return false }
        let range = NSRange(value.startIndex..., in: value)
        guard let match = regex.firstMatch(in: value, range: range) else { return false }
        return match.range == range
    }
}

/// Every problem of one record, in schema order (the same on every run of the same input).
public struct RecordProblems: Error, Equatable, Sendable, CustomStringConvertible {
    public var problems: [FieldProblem]

    package init(problems: [FieldProblem]) {
        self.problems = problems
    }
    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

/// Validates and canonicalises field values against the schema.
package struct FieldValidator: Sendable {
    package let schema: Schema
    /// Today's date in UTC as YYYY-MM-DD, fixed per validator so a batch is judged consistently.
    package let today: String
    /// Where times written without a zone are read (an import's time zone option, else the schema's).
    package let timeZone: TimeZone
    /// The zone's name as given (Foundation calls UTC "GMT").
    package let timeZoneName: String
    /// The country national phone numbers are read in when a record names none (an import's
    /// country option, else the schema's `default_country`).
    package let country: Country?
    /// Per qualified enumeration field: matching key (``Normalization/enumKey(_:)``) → value.
    private let spellings: [String: [String: String]]
    /// The names of each entity's fields (a row's unknown columns are found by hash, not by scanning the schema).
    private let fieldNames: [Entity: Set<String>]

    package init(schema: Schema, now: Date = Date(), timeZone: TimeZone? = nil, country: Country? = nil) {
        self.schema = schema
        self.today = Timestamps.day(now)
        self.timeZone = timeZone ?? TimeZone(identifier: schema.timeZone) ?? .gmt
        self.timeZoneName = timeZone?.identifier ?? schema.timeZone
        self.country = country ?? schema.defaultPhoneCountry
        var spellings: [String: [String: String]] = [:]
        for entity in Entity.allCases {
            for field in schema.fields(of: entity) {
                guard case .enumeration(let values) = field.type else { continue }
                var keys: [String: String] = [:]
                for value in values {
                    keys[Normalization.enumKey(value)] = value
                    for alias in field.aliases[value] ?? [] { keys[Normalization.enumKey(alias)] = value }
                }
                spellings[KeyScope.fieldName(entity, field.name)] = keys
            }
        }
        self.spellings = spellings
        self.fieldNames = Dictionary(uniqueKeysWithValues: Entity.allCases.map { entity in (entity, Set(schema.fields(of: entity).map(\.name))) })
    }

    /// Returns the canonical stored form of `raw` for `field`, or throws the reason it is refused.
    /// `country` is the record's own country, if it names one (for national phone numbers).
    package func canonical(_ raw: String, for field: FieldSchema, country recordCountry: Country? = nil) throws(FieldProblem) -> String {
        func refuse(_ reason: String) -> FieldProblem { FieldProblem(field: field.name, reason: reason) }
        let trimmed = raw.trimmedWhitespace.canonicallyComposed
        let value: String
        switch field.type {
        case .text:
            // Line breaks and tabs are whitespace (a postal address may span lines); other control
            // characters have no place in a value. Lines are kept (CR LF and CR read as LF); long
            // free text keeps its spacing, short fields collapse spaces within each line.
            if trimmed.unicodeScalars.contains(where: { $0.isControlFast && $0 != "\n" && $0 != "\t" && $0 != "\r" }) {
                throw refuse("contains control characters")
            }
            value = trimmed.keepingLines(collapsingSpaces: field.maxLength <= 1_000)
        case .email:
            guard let email = Normalization.email(trimmed) else { throw refuse("is not a valid e-mail address") }
            value = email
        case .phone:
            switch Normalization.readPhone(trimmed, country: recordCountry ?? country) {
            case .number(let number): value = number
            case .malformed: throw refuse("is not a valid phone number (digits, spaces, + ( ) - . only; 7 to 15 digits)")
            case .needsCountry:
                throw refuse("is a national number and no country says how to read it: write it in international form (+44 20 7946 0123), "
                    + "give the record a country, or the import a default country")
            }
        case .country:
            guard let match = Countries.lookup(trimmed) else { throw refuse("is not an ISO 3166 country (write it as GB, DEU, France, …)") }
            value = match.alpha2
        case .integer:
            guard let number = Int(trimmed) else { throw refuse("must be a whole number") }
            try checkRange(Double(number), field)
            value = String(number)
        case .decimal:
            guard NamePattern.decimal(trimmed),
                  let number = Double(trimmed) else { throw refuse("must be a decimal number such as 12.50") }
            try checkRange(number, field)
            value = ExportColumns.jsonNumber(trimmed) ?? trimmed  // 007.10 is 7.10: one spelling per number
        case .boolean:
            switch trimmed.lowercased() {
            case "true", "yes", "1", "y": value = "true"
            case "false", "no", "0", "n": value = "false"
            default: throw refuse("must be true or false")
            }
        case .date:
            var text = trimmed
            // A date-time whose time is midnight, as spreadsheets write dates ("1985-04-12 00:00:00").
            for suffix in [" 00:00:00", "T00:00:00", " 00:00", "T00:00"] where text.utf8.count == 10 + suffix.utf8.count && text.hasSuffix(suffix) {
                text = String(text.prefix(10))
            }
            guard let day = Timestamps.parseDay(text) else { throw refuse("must be a date written YYYY-MM-DD") }
            if field.name == "birth_date" {
                guard day <= today, day >= "1890-01-01" else { throw refuse("must be between 1890-01-01 and today") }
            }
            value = day
        case .timestamp:
            switch Timestamps.readInstant(trimmed, zone: timeZone) {
            case .instant(let instant): value = instant
            case .dateOnly: throw refuse("is a date without a time of day; write a time such as 2025-03-04T10:22:01")
            case .skipped(let zone): throw refuse("is a local time that does not exist in \(zone) (the clocks moved forward over it)")
            case .malformed, .needsZone:
                throw refuse("must be an ISO 8601 time such as 2025-03-04T10:22:01Z, 2025-03-04 10:22+01:00 or 2025-03-04 10:22 (read in \(timeZoneName))")
            }
        case .enumeration(let allowed):
            guard let match = spellings[KeyScope.fieldName(field.entity, field.name)]?[Normalization.enumKey(trimmed)] else {
                throw refuse("must be one of \(allowed.joined(separator: ", "))\(Suggestion.didYouMean(Normalization.enumKey(trimmed), among: allowed))")
            }
            value = match
        }
        guard !value.isEmpty else { throw refuse("is empty") }
        // A scalar takes at least one UTF-8 byte: most values need no scalar count.
        guard value.utf8.count <= field.maxLength || value.unicodeScalars.count <= field.maxLength else {
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

    /// Validates a whole record: unknown fields, required fields, each value. Every problem is
    /// reported, in schema order (unknown fields first, by name).
    ///
    /// Empty strings mean "absent"; an absent plain field with a `default` takes it (when
    /// `requireAll`, that is for a new record). A phone number is read in the record's country
    /// when the record names a valid one. Returns the canonical values of the present fields.
    package func validateRecord(_ values: [String: String], entity: Entity, requireAll: Bool = true) throws(RecordProblems) -> [String: String] {
        let known = fieldNames[entity] ?? []
        var problems = values.keys.filter { !known.contains($0) }.sorted()
            .map { FieldProblem(field: $0, reason: "is not a field of \(entity.rawValue) in the schema\(Suggestion.didYouMean($0, among: schema.fields(of: entity).map(\.name)))") }
        let fields = schema.fields(of: entity)
        var result: [String: String] = [:]
        result.reserveCapacity(fields.count)
        // The record's country first: its phone numbers are read in it.
        var recordCountry: Country?
        if let countryField = fields.first(where: { $0.type == .country }), let raw = values[countryField.name],
           let code = try? canonical(raw, for: countryField) {
            recordCountry = Countries.alpha2(code)
        }
        for field in fields {
            guard let raw = values[field.name], !raw.unicodeScalars.allSatisfy(\.isWhitespaceFast) else {
                if requireAll, let fallback = field.defaultValue {
                    result[field.name] = fallback
                } else if requireAll && field.required {
                    problems.append(FieldProblem(field: field.name, reason: "is required"))
                }
                continue
            }
            do {
                result[field.name] = try canonical(raw, for: field, country: recordCountry)
            } catch {
                problems.append(error)
            }
        }
        guard problems.isEmpty else { throw RecordProblems(problems: problems) }
        return result
    }
}
