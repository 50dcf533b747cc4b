import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct SchemaCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "schema",
            abstract: "Show the schema: fields, classes, types, enumeration values with aliases, limits.",
            subcommands: [Show.self])

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "show",
                abstract: "Print the schema of a vault (no credential needed), of a file, or the shipped one.",
                discussion: """
                    Without --vault (or CVAULT_VAULT naming an existing vault) and --schema, the shipped \\
                    schema (policies/schema.yaml) is shown.

                    Example: cvault schema show --vault crm.vault --json
                    """)

            @Option(help: ArgumentHelp("The vault whose stored schema to show (or CVAULT_VAULT).", valueName: "path")) var vault: String?
            @Option(help: ArgumentHelp("A schema file to show instead.", valueName: "file")) var schema: String?
            @Flag(help: "Print machine-readable JSON.") var json = false

            func run() async throws {
                let environmentVault = ProcessInfo.processInfo.environment["CVAULT_VAULT"].flatMap {
                    !$0.isEmpty && FileManager.default.fileExists(atPath: $0) ? $0 : nil
                }
                let loaded: Schema
                if let schema {
                    loaded = try Schema.load(fileAt: schema)
                } else if let path = vault ?? environmentVault {
                    loaded = try await CustomerVault.storedPolicy(at: path).schema
                } else {
                    loaded = try Schema.shippedDefault()
                }
                let description = SchemaDescription(loaded)
                if json { try Output.json(description); return }
                Output.line("timezone: \(description.timezone)   default_country: \(description.defaultCountry ?? "none")")
                for entity in Entity.allCases {
                    Output.line("\n\(entity.rawValue):")
                    for field in description.entities[entity.rawValue] ?? [] { Output.line("  " + field.summary) }
                }
            }
        }
    }
}

/// `cvault schema show --json`: what each field is and accepts.
struct SchemaDescription: Encodable {
    struct Field: Encodable {
        var name: String
        var `class`: String
        var type: String
        var required: Bool
        var unique: Bool
        /// The blind index's normalisation and size, for searchable fields.
        var search: Search?
        var mask: String?
        var maxLength: Int
        var min: Double?
        var max: Double?
        var pattern: String?
        /// Enumeration values, each with its aliases.
        var values: [String: [String]]?
        var `default`: String?

        struct Search: Encodable {
            var normalize: String
            var indexBits: Int
        }

        enum CodingKeys: String, CodingKey {
            case name, `class`, type, required, unique, search, mask, maxLength, min, max, pattern, values, `default`
        }

        /// Absent values as `null`, as the JSON contract says (synthesised encoding leaves them out).
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(`class`, forKey: .class)
            try container.encode(type, forKey: .type)
            try container.encode(required, forKey: .required)
            try container.encode(unique, forKey: .unique)
            try container.encode(search, forKey: .search)
            try container.encode(mask, forKey: .mask)
            try container.encode(maxLength, forKey: .maxLength)
            try container.encode(min, forKey: .min)
            try container.encode(max, forKey: .max)
            try container.encode(pattern, forKey: .pattern)
            try container.encode(values, forKey: .values)
            try container.encode(`default`, forKey: .default)
        }

        var summary: String {
            var parts = ["\(name):", `class`, type]
            if required { parts.append("required") }
            if unique { parts.append("unique") }
            if let search { parts.append("search(\(search.normalize), \(search.indexBits) bits)") }
            if let mask { parts.append("mask \(mask)") }
            if let min { parts.append("min \(min)") }
            if let max { parts.append("max \(max)") }
            if let pattern { parts.append("pattern \(pattern)") }
            if let `default` { parts.append("default \(`default`)") }
            if let values {
                parts.append("values " + values.keys.sorted().map { key in
                    values[key].map { $0.isEmpty ? key : "\(key) (\($0.joined(separator: ", ")))" } ?? key
                }.joined(separator: "; "))
            }
            return parts.joined(separator: " ")
        }
    }

    var timezone: String
    var defaultCountry: String?
    var expectedRecords: Int
    var entities: [String: [Field]]

    enum CodingKeys: String, CodingKey { case timezone, defaultCountry, expectedRecords, entities }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(defaultCountry, forKey: .defaultCountry)
        try container.encode(expectedRecords, forKey: .expectedRecords)
        try container.encode(entities, forKey: .entities)
    }

    init(_ schema: Schema) {
        timezone = schema.timeZone
        defaultCountry = schema.defaultCountry
        expectedRecords = schema.expectedRecords
        var entities: [String: [Field]] = [:]
        for entity in Entity.allCases {
            entities[entity.rawValue] = schema.fields(of: entity).map { field in
                var type = "\(field.type)"
                var values: [String: [String]]?
                if case .enumeration(let allowed) = field.type {
                    type = "enum"
                    values = Dictionary(uniqueKeysWithValues: allowed.map { ($0, field.aliases[$0] ?? []) })
                }
                let mask: String? = field.mask.map {
                    switch $0 {
                    case .email: "email"
                    case .last4: "last4"
                    case .initial: "initial"
                    case .prefix(let count): "prefix \(count)"
                    }
                }
                return Field(name: field.name, class: field.classification.rawValue, type: type, required: field.required, unique: field.unique,
                             search: field.search.map { Field.Search(normalize: $0.normalization.rawValue, indexBits: $0.indexBits) },
                             mask: mask, maxLength: field.maxLength, min: field.minimum, max: field.maximum, pattern: field.pattern,
                             values: values, default: field.defaultValue)
            }
        }
        self.entities = entities
    }
}
