import Foundation
import Yams

extension Schema {
    /// Reads and validates a schema file.
    ///
    /// - Throws: ``VaultError`` `.notFound` for a missing file, `.invalidInput` naming the line of a problem.
    public static func load(fileAt path: String) throws -> Schema {
        try load(yaml: try YAMLReader.readFile(at: path, what: "schema file"), fileName: path)
    }

    /// Parses and validates a schema file.
    ///
    /// - Parameters:
    ///   - text: The YAML source.
    ///   - fileName: Used in error messages, which name the line of every problem.
    ///   - checkingPatterns: Whether to compile each field's `pattern` to refuse an invalid one. A
    ///     schema the vault signed was checked when it was applied, and compiling the first regular
    ///     expression of a process costs about 2 ms (ICU's start-up), so opening a vault leaves it
    ///     to the first value validated (an invalid pattern then refuses every value: fail closed).
    /// - Throws: ``VaultError`` `.invalidInput` naming the file, line and problem.
    public static func load(yaml text: String, fileName: String = "schema.yaml", checkingPatterns: Bool = true) throws -> Schema {
        let reader = YAMLReader(fileName: fileName)
        let root = try reader.parse(text)
        var schema = Schema(expectedRecords: 1_000_000, phoneDefaultCountryCode: "", fields: [:], source: text)
        var sawFormat = false
        for (key, keyNode, value) in try reader.mapping(root, "the schema") {
            switch key {
            case "format":
                let format = try reader.integer(value, "format")
                guard format == supportedFormat else {
                    throw reader.error(at: value, "schema format \(format) is not supported (this build reads format \(supportedFormat))")
                }
                sawFormat = true
            case "expected_records":
                schema.expectedRecords = try reader.integer(value, "expected_records")
                guard schema.expectedRecords >= 1 else { throw reader.error(at: value, "expected_records must be at least 1") }
            case "phone_default_country_code":
                let code = try reader.string(value, "phone_default_country_code")
                guard (1...3).contains(code.count), code.allSatisfy({ $0.isASCII && $0.isNumber }), code.first != "0" else {
                    throw reader.error(at: value, "phone_default_country_code must be 1 to 3 digits without '+', e.g. \"44\"")
                }
                schema.phoneDefaultCountryCode = code
            case "default_country":
                let text = try reader.string(value, "default_country")
                guard let country = Countries.lookup(text), !country.callingCode.isEmpty else {
                    throw reader.error(at: value, "default_country '\(text)' is not an ISO 3166 country with a calling code (write it as GB, DE, US, …)")
                }
                schema.defaultCountry = country.alpha2
            case "timezone":
                let text = try reader.string(value, "timezone")
                guard TimeZone(identifier: text) != nil else {
                    throw reader.error(at: value, "timezone '\(text)' is not an IANA time zone (such as UTC, Europe/Paris, America/New_York)")
                }
                schema.timeZone = text
            default:
                guard let entity = Entity(rawValue: key) else {
                    throw reader.error(at: keyNode, "unknown key '\(key)'\(Suggestion.didYouMean(key, among: topLevelKeys)) (expected \(topLevelKeys.joined(separator: ", ")))")
                }
                schema.fields[entity] = try loadFields(of: entity, from: value, reader: reader, checkingPatterns: checkingPatterns)
            }
        }
        guard sawFormat else { throw reader.error(at: root, "missing 'format: \(supportedFormat)'") }
        try schema.checkRequiredFields(reader: reader, root: root)
        try schema.checkDefaults(reader: reader, root: root)
        return schema
    }

    package static let topLevelKeys = ["format", "expected_records", "timezone", "default_country", "phone_default_country_code",
                               "customers", "transactions", "interactions"]
    package static let fieldKeys = ["class", "type", "values", "aliases", "required", "unique", "default", "max_length", "min", "max",
                            "pattern", "search", "mask"]
    package static let typeNames = ["text", "email", "phone", "date", "timestamp", "integer", "decimal", "boolean", "country", "enum"]

    private static func loadFields(of entity: Entity, from node: Node, reader: YAMLReader, checkingPatterns: Bool) throws -> [FieldSchema] {
        try reader.mapping(node, entity.rawValue).map { name, keyNode, value in
            guard NamePattern.lowerIdentifier(name, maxLength: 63) else {
                throw reader.error(at: keyNode, "field name '\(name)' must be lower-case letters, digits and '_', starting with a letter")
            }
            return try loadField(entity: entity, name: name, from: value, reader: reader, checkingPatterns: checkingPatterns)
        }
    }

    // The parser is one switch over the allowed keys so that an unknown key is always an error.
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private static func loadField(entity: Entity, name: String, from node: Node, reader: YAMLReader, checkingPatterns: Bool) throws -> FieldSchema {
        let what = "\(entity.rawValue).\(name)"
        var field = FieldSchema(
            entity: entity, name: name, classification: .plain, type: .text, required: false,
            maxLength: 1_000, minimum: nil, maximum: nil, pattern: nil, unique: false, search: nil, mask: nil)
        var sawClass = false, sawType = false, enumValues: [String]?, typeNode = node
        var searchNode: Node?, aliasNode: Node?
        for (key, keyNode, value) in try reader.mapping(node, what) {
            switch key {
            case "class":
                guard let classification = FieldSchema.Classification(rawValue: try reader.string(value, "class")) else {
                    throw reader.error(at: value, "\(what): class must be personal or plain")
                }
                field.classification = classification
                sawClass = true
            case "type":
                let type = try reader.string(value, "type")
                typeNode = value
                switch type {
                case "text": field.type = .text
                case "email": field.type = .email
                case "phone": field.type = .phone
                case "date": field.type = .date
                case "timestamp": field.type = .timestamp
                case "integer": field.type = .integer
                case "decimal": field.type = .decimal
                case "boolean": field.type = .boolean
                case "country": field.type = .country
                case "enum": field.type = .enumeration([])
                default:
                    throw reader.error(at: value, "\(what): unknown type '\(type)'\(Suggestion.didYouMean(type, among: typeNames)) (\(typeNames.joined(separator: ", ")))")
                }
                sawType = true
            case "values": enumValues = try reader.strings(value, "values")
            case "aliases": aliasNode = value
            case "default": field.defaultValue = try reader.string(value, "default")
            case "required": field.required = try reader.bool(value, "required")
            case "unique": field.unique = try reader.bool(value, "unique")
            case "max_length":
                field.maxLength = try reader.integer(value, "max_length")
                guard (1...absoluteMaximumLength).contains(field.maxLength) else {
                    throw reader.error(at: value, "\(what): max_length must be between 1 and \(absoluteMaximumLength)")
                }
            case "min": field.minimum = try reader.number(value, "min")
            case "max": field.maximum = try reader.number(value, "max")
            case "pattern":
                let pattern = try reader.string(value, "pattern")
                guard !checkingPatterns || (try? NSRegularExpressionCache.compile(pattern)) != nil else {
                    throw reader.error(at: value, "\(what): pattern is not a valid regular expression")
                }
                field.pattern = pattern
            case "search": searchNode = value
            case "mask": field.mask = try loadMask(value, what: what, reader: reader)
            default:
                throw reader.error(at: keyNode, "\(what): unknown key '\(key)'\(Suggestion.didYouMean(key, among: fieldKeys)) (\(fieldKeys.joined(separator: ", ")))")
            }
        }
        guard sawClass else { throw reader.error(at: node, "\(what): missing 'class' (personal or plain)") }
        guard sawType else { throw reader.error(at: node, "\(what): missing 'type'") }
        if case .enumeration = field.type {
            guard let enumValues, !enumValues.isEmpty else { throw reader.error(at: typeNode, "\(what): an enum needs a non-empty 'values' list") }
            field.type = .enumeration(enumValues)
            if let aliasNode { field.aliases = try loadAliases(aliasNode, values: enumValues, what: what, reader: reader) }
        } else if enumValues != nil || aliasNode != nil {
            throw reader.error(at: typeNode, "\(what): 'values' and 'aliases' are only for type enum")
        }
        if field.defaultValue != nil && (field.isPersonal || field.required) {
            throw reader.error(at: node, "\(what): 'default' is for optional plain fields only")
        }
        if let searchNode {
            field.search = try loadSearch(searchNode, field: field, what: what, reader: reader)
        }
        if field.unique && field.isPersonal && field.search == nil {
            throw reader.error(at: node, "\(what): a unique personal field needs 'search' (uniqueness is checked through its blind index)")
        }
        if field.isNaturalKey && !field.required {
            throw reader.error(at: node, "\(what): a unique plain field is its records' natural key and must be required")
        }
        if (field.search != nil || field.mask != nil) && !field.isPersonal {
            throw reader.error(at: node, "\(what): search and mask apply to personal fields only")
        }
        if (field.search != nil) && entity != .customers {
            throw reader.error(at: node, "\(what): search is supported on customer fields only")
        }
        return field
    }

    private static func loadSearch(_ node: Node, field: FieldSchema, what: String, reader: YAMLReader) throws -> FieldSchema.Search {
        var search = FieldSchema.Search(normalization: .exact, indexBits: 0)
        for (key, keyNode, value) in try reader.mapping(node, "\(what).search") {
            switch key {
            case "normalize":
                guard let normalization = FieldSchema.Normalization(rawValue: try reader.string(value, "normalize")) else {
                    throw reader.error(at: value, "\(what): normalize must be email, phone, name or exact")
                }
                search.normalization = normalization
            case "index_bits":
                search.indexBits = try reader.integer(value, "index_bits")
                guard (8...64).contains(search.indexBits) else {
                    throw reader.error(at: value, "\(what): index_bits must be between 8 and 64")
                }
            default:
                throw reader.error(at: keyNode, "\(what).search: unknown key '\(key)' (normalize, index_bits)")
            }
        }
        if field.unique {
            guard search.indexBits == 0 else {
                throw reader.error(at: node, "\(what): a unique field keeps a full 128-bit index; remove index_bits")
            }
            search.indexBits = 128
        } else if search.indexBits == 0 {
            throw reader.error(at: node, "\(what): a searchable field needs index_bits (its leakage budget)")
        }
        return search
    }

    private static func loadMask(_ node: Node, what: String, reader: YAMLReader) throws -> FieldSchema.Mask {
        if case .mapping = node {
            let pairs = try reader.mapping(node, "\(what).mask")
            guard pairs.count == 1, pairs[0].key == "prefix" else {
                throw reader.error(at: node, "\(what): mask must be email, last4, initial or { prefix: N }")
            }
            let count = try reader.integer(pairs[0].value, "prefix")
            guard (1...16).contains(count) else { throw reader.error(at: pairs[0].value, "\(what): prefix must be 1 to 16") }
            return .prefix(count)
        }
        switch try reader.string(node, "mask") {
        case "email": return .email
        case "last4": return .last4
        case "initial": return .initial
        default: throw reader.error(at: node, "\(what): mask must be email, last4, initial or { prefix: N }")
        }
    }

    /// `aliases: { card: [credit card, debit card], … }`: each key a value of the enum, no spelling
    /// (as values are matched: case, spaces, hyphens, underscores and accents aside) used twice.
    private static func loadAliases(_ node: Node, values: [String], what: String, reader: YAMLReader) throws -> [String: [String]] {
        var aliases: [String: [String]] = [:]
        var owner: [String: String] = [:]
        for value in values {
            let key = Normalization.enumKey(value)
            if let other = owner[key] { throw reader.error(at: node, "\(what): values '\(other)' and '\(value)' are the same when matched") }
            owner[key] = value
        }
        for (value, valueNode, list) in try reader.mapping(node, "\(what).aliases") {
            guard values.contains(value) else {
                throw reader.error(at: valueNode, "\(what).aliases: '\(value)' is not one of the values\(Suggestion.didYouMean(value, among: values))")
            }
            let spellings = try reader.strings(list, "\(what).aliases.\(value)")
            for spelling in spellings {
                let key = Normalization.enumKey(spelling)
                guard !key.isEmpty else { throw reader.error(at: list, "\(what).aliases.\(value): an alias is empty") }
                if let other = owner[key], other != value {
                    throw reader.error(at: list, "\(what).aliases.\(value): '\(spelling)' already reads as '\(other)'")
                }
                owner[key] = value
            }
            aliases[value] = spellings
        }
        return aliases
    }

    /// A field's `default` must be a value the field accepts, in its canonical form.
    private func checkDefaults(reader: YAMLReader, root: Node) throws {
        let validator = FieldValidator(schema: self)
        for entity in Entity.allCases {
            for field in fields(of: entity) {
                guard let value = field.defaultValue else { continue }
                guard let canonical = try? validator.canonical(value, for: field, country: nil), canonical == value else {
                    throw reader.error(at: root, "\(entity.rawValue).\(field.name): default '\(value)' is not a value of the field in its canonical form")
                }
            }
        }
    }

    /// Fields the vault's own logic relies on must exist with the right shape.
    private func checkRequiredFields(reader: YAMLReader, root: Node) throws {
        guard let email = field(.customers, "email"), email.isPersonal, email.type == .email, email.unique else {
            throw reader.error(at: root, "customers.email must exist as a personal, unique email field (customers are matched by e-mail)")
        }
        for entity in Entity.allCases where fields[entity] == nil {
            throw reader.error(at: root, "missing section '\(entity.rawValue)'")
        }
        for entity in Entity.allCases where fields(of: entity).filter({ $0.type == .country }).count > 1 {
            throw reader.error(at: root, "\(entity.rawValue) has more than one country field (phone numbers are read in the record's country)")
        }
        if defaultCountry != nil && !phoneDefaultCountryCode.isEmpty {
            throw reader.error(at: root, "give default_country or phone_default_country_code, not both")
        }
    }
}
