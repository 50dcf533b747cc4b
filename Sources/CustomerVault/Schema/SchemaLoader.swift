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
    /// - Throws: ``VaultError`` `.invalidInput` naming the file, line and problem.
    public static func load(yaml text: String, fileName: String = "schema.yaml") throws -> Schema {
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
            default:
                guard let entity = Entity(rawValue: key) else {
                    throw reader.error(at: keyNode, "unknown key '\(key)' (expected format, expected_records, phone_default_country_code, customers, transactions or interactions)")
                }
                schema.fields[entity] = try loadFields(of: entity, from: value, reader: reader)
            }
        }
        guard sawFormat else { throw reader.error(at: root, "missing 'format: \(supportedFormat)'") }
        try schema.checkRequiredFields(reader: reader, root: root)
        return schema
    }

    private static func loadFields(of entity: Entity, from node: Node, reader: YAMLReader) throws -> [FieldSchema] {
        try reader.mapping(node, entity.rawValue).map { name, keyNode, value in
            guard name.range(of: #"^[a-z][a-z0-9_]{0,62}$"#, options: .regularExpression) != nil else {
                throw reader.error(at: keyNode, "field name '\(name)' must be lower-case letters, digits and '_', starting with a letter")
            }
            return try loadField(entity: entity, name: name, from: value, reader: reader)
        }
    }

    // The parser is one switch over the allowed keys so that an unknown key is always an error.
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    private static func loadField(entity: Entity, name: String, from node: Node, reader: YAMLReader) throws -> FieldSchema {
        let what = "\(entity.rawValue).\(name)"
        var field = FieldSchema(
            entity: entity, name: name, classification: .plain, type: .text, required: false,
            maxLength: 1_000, minimum: nil, maximum: nil, pattern: nil, unique: false, search: nil, mask: nil)
        var sawClass = false, sawType = false, enumValues: [String]?, typeNode = node
        var searchNode: Node?
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
                case "enum": field.type = .enumeration([])
                default:
                    throw reader.error(at: value, "\(what): unknown type '\(type)' (text, email, phone, date, timestamp, integer, decimal, boolean, enum)")
                }
                sawType = true
            case "values": enumValues = try reader.strings(value, "values")
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
                guard (try? NSRegularExpressionCache.compile(pattern)) != nil else {
                    throw reader.error(at: value, "\(what): pattern is not a valid regular expression")
                }
                field.pattern = pattern
            case "search": searchNode = value
            case "mask": field.mask = try loadMask(value, what: what, reader: reader)
            default:
                throw reader.error(at: keyNode, "\(what): unknown key '\(key)' (class, type, values, required, unique, max_length, min, max, pattern, search, mask)")
            }
        }
        guard sawClass else { throw reader.error(at: node, "\(what): missing 'class' (personal or plain)") }
        guard sawType else { throw reader.error(at: node, "\(what): missing 'type'") }
        if case .enumeration = field.type {
            guard let enumValues, !enumValues.isEmpty else { throw reader.error(at: typeNode, "\(what): an enum needs a non-empty 'values' list") }
            field.type = .enumeration(enumValues)
        } else if enumValues != nil {
            throw reader.error(at: typeNode, "\(what): 'values' is only for type enum")
        }
        if let searchNode {
            field.search = try loadSearch(searchNode, field: field, what: what, reader: reader)
        }
        if field.unique && field.search == nil {
            throw reader.error(at: node, "\(what): a unique field needs 'search' (uniqueness is checked through its blind index)")
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

    /// Fields the vault's own logic relies on must exist with the right shape.
    private func checkRequiredFields(reader: YAMLReader, root: Node) throws {
        guard let email = field(.customers, "email"), email.isPersonal, email.type == .email, email.unique else {
            throw reader.error(at: root, "customers.email must exist as a personal, unique email field (customers are matched by e-mail)")
        }
        for entity in Entity.allCases where fields[entity] == nil {
            throw reader.error(at: root, "missing section '\(entity.rawValue)'")
        }
        if fields(of: .customers).contains(where: { $0.type == .phone }) && phoneDefaultCountryCode.isEmpty {
            throw reader.error(at: root, "phone fields need 'phone_default_country_code'")
        }
    }
}
