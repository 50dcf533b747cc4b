/// The kinds of records the vault stores. Every sealed value is bound to its entity's table name.
public enum Entity: String, Sendable, CaseIterable, Codable {
    case customers, transactions, interactions
}

/// How one field is protected, validated and searched. Loaded from `policies/schema.yaml`.
public struct FieldSchema: Sendable, Equatable {
    /// Whether values are personal (sealed before storage) or plain attributes stored in clear.
    public enum Classification: String, Sendable, Equatable { case personal, plain }

    /// The value type; it decides validation and normalisation.
    public enum ValueType: Sendable, Equatable {
        case text, email, phone, date, timestamp, integer, decimal, boolean
        /// An ISO 3166-1 country, stored as its alpha-2 code; it says how the record's national
        /// phone numbers read.
        case country
        case enumeration([String])
    }

    /// How a searchable value is normalised before its blind index is computed.
    public enum Normalization: String, Sendable, Equatable { case email, phone, name, exact }

    /// Equality search through a keyed blind index.
    public struct Search: Sendable, Equatable {
        public var normalization: Normalization
        /// Index length in bits: truncated for a leakage budget, or 128 for unique fields.
        public var indexBits: Int
    }

    /// The masked form offered to roles whose view of the field is `masked`.
    public enum Mask: Sendable, Equatable {
        case email, last4, initial
        case prefix(Int)
    }

    public var entity: Entity
    public var name: String
    public var classification: Classification
    public var type: ValueType
    public var required: Bool
    public var maxLength: Int
    public var minimum: Double?
    public var maximum: Double?
    public var pattern: String?
    /// A personal unique field is checked through its blind index; a plain one is the entity's
    /// natural key (a transaction's `order_id`): a row whose key is stored already is not stored again.
    public var unique: Bool
    public var search: Search?
    public var mask: Mask?
    /// Other spellings of enumeration values (value → aliases), matched like the values themselves.
    public var aliases: [String: [String]] = [:]
    /// The value a plain field takes when a record leaves it empty (a default currency).
    public var defaultValue: String?

    public var isPersonal: Bool { classification == .personal }
    /// Whether the field identifies its record within the entity (``unique``, plain).
    public var isNaturalKey: Bool { unique && !isPersonal }
}

/// The vault's schema: the fields of each entity in declaration order.
public struct Schema: Sendable, Equatable {
    public static let supportedFormat = 1
    /// Upper bound on a field's `max_length`, whatever the schema says.
    public static let absoluteMaximumLength = 65_536

    public var expectedRecords: Int
    /// Country calling code used to write national phone numbers in E.164 (no `+`); schemas
    /// written before `default_country` (kept so their phone numbers normalise as before).
    public var phoneDefaultCountryCode: String
    /// ISO 3166-1 alpha-2 code of the country a national phone number is read in when its record
    /// names none (`default_country`); the shipped schema sets none.
    public var defaultCountry: String?
    /// IANA time zone in which times written without a zone are read (`timezone`, UTC by default).
    public var timeZone: String = "UTC"
    public var fields: [Entity: [FieldSchema]]
    /// The schema text as stored in the vault; its hash identifies the schema in force.
    public var source: String

    public func fields(of entity: Entity) -> [FieldSchema] { fields[entity] ?? [] }

    public func field(_ entity: Entity, _ name: String) -> FieldSchema? {
        fields(of: entity).first { $0.name == name }
    }

    /// Personal fields of an entity: each has its own data keys.
    public func personalFields(of entity: Entity) -> [FieldSchema] {
        fields(of: entity).filter(\.isPersonal)
    }

    /// The country national phone numbers are read in when a record names none, if any.
    package var defaultPhoneCountry: Country? {
        if let defaultCountry { return Countries.alpha2(defaultCountry) }
        guard !phoneDefaultCountryCode.isEmpty else { return nil }
        return Country(alpha2: "", alpha3: "", callingCode: phoneDefaultCountryCode, nationalPrefix: "0", names: [])
    }

    /// The entity's natural keys (plain unique fields).
    public func naturalKeys(of entity: Entity) -> [FieldSchema] { fields(of: entity).filter(\.isNaturalKey) }

    /// Fields with a blind index (customers only).
    public var searchableFields: [FieldSchema] {
        fields(of: .customers).filter { $0.search != nil }
    }
}

extension Schema {
    /// Whether `qualified` (`entity.field`) names a personal field of this schema.
    package func isPersonalField(_ qualified: String) -> Bool {
        let parts = qualified.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let entity = Entity(rawValue: parts[0]) else { return false }
        return field(entity, parts[1])?.isPersonal == true
    }
}
