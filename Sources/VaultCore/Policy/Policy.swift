import Foundation

/// What a role may see of one personal field.
public enum FieldView: String, Sendable, Codable, Comparable, CaseIterable {
    /// Nothing: the field is absent from every record the role reads.
    case none
    /// The masked form the schema defines (`j***@example.com`); the role holds only the mask key.
    case masked
    /// The full value; the role holds the field's seal key.
    case plain

    /// none < masked < plain: how much of the value the view shows.
    private var rank: Int {
        switch self {
        case .none: 0
        case .masked: 1
        case .plain: 2
        }
    }

    public static func < (lhs: FieldView, rhs: FieldView) -> Bool { lhs.rank < rhs.rank }
}

/// One role's rights over one personal field (`customers.email`, `interactions.summary`).
public struct FieldGrant: Sendable, Equatable {
    public var view: FieldView = .none
    /// May write new values (on create, update, import); a write-only role cannot read them back.
    public var write = false
    /// May search by this field (needs a blind index in the schema).
    public var search = false
    /// Source line, for `policy explain` and error messages.
    public var line = 0
}

/// An allowed action, optionally only for listed purposes.
public struct ActionGrant: Sendable, Equatable {
    public var action: VaultAction
    /// Empty: no purpose needed. Otherwise the request must name one of these.
    public var purposes: [String]
    public var line: Int
}

/// A condition every customer row must meet for the role to see or touch it.
public struct RowCondition: Sendable, Equatable, CustomStringConvertible {
    public enum Test: Sendable, Equatable {
        /// The customer's attribute equals this value.
        case equals(String)
        /// The customer's attribute is one of the comma-separated values of this principal attribute.
        case inPrincipalAttribute(String)
    }

    /// A plain customers field (row conditions never need decryption).
    public var attribute: String
    public var test: Test
    public var line: Int

    public var description: String {
        switch test {
        case .equals(let value): "\(attribute) = \(value)"
        case .inPrincipalAttribute(let name): "\(attribute) in principal.\(name)"
        }
    }

    /// Whether a customer with `attributes` passes, for a principal with `principalAttributes`.
    /// A missing attribute on either side fails (closed).
    package func admits(_ attributes: [String: String], principalAttributes: [String: String]) -> Bool {
        guard let value = attributes[attribute] else { return false }
        switch test {
        case .equals(let expected):
            return value == expected
        case .inPrincipalAttribute(let name):
            guard let allowed = principalAttributes[name] else { return false }
            return allowed.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == value }
        }
    }
}

/// One role of a policy.
public struct RolePolicy: Sendable, Equatable {
    public var name: String
    public var description: String
    public var allow: [VaultAction: ActionGrant]
    /// Explicitly denied actions: a deny wins over any allow.
    public var deny: [VaultAction: Int]
    /// Rights per personal field (`entity.field`); a field not listed is `none`, not writable, not searchable.
    public var fields: [String: FieldGrant]
    /// All must hold for a customer row to be visible.
    public var rows: [RowCondition]
    public var line: Int

    public func grant(for field: String) -> FieldGrant { fields[field] ?? FieldGrant() }

    /// A key custodian provisions keys, so it must hold every key (and the root signing key).
    public var isKeyCustodian: Bool { allows(.principalsManage) }

    public func allows(_ action: VaultAction) -> Bool { allow[action] != nil && deny[action] == nil }
}

/// A parsed, validated access policy: purposes and roles. Stored in the vault and signed by the
/// vault root key; ``CustomerVault/applyPolicy(_:)`` replaces it and re-provisions keyrings.
public struct Policy: Sendable, Equatable {
    /// Format 2 (the shipped policy) makes plain attributes need a `write` grant like personal
    /// fields; format 1, the first releases' format, let any write action set them.
    public static let supportedFormats = 1...2
    public static let currentFormat = 2

    public var format = currentFormat
    /// Whether writing a plain attribute (region, a consent flag, an order amount) needs a grant.
    public var plainWritesNeedGrants: Bool { format >= 2 }

    /// Accepted purposes and what each means.
    public var purposes: [String: String]
    public var roles: [String: RolePolicy]
    /// What erasing a customer does with their transactions: keep them pseudonymised (no personal
    /// value, owned by the erased customer's id; for accounting) or remove them.
    public var erasureKeepsTransactions = true
    /// How long each kind of data is kept (``CustomerVault/applyRetention(dryRun:)``); absent kinds are kept.
    public var retention: [RetentionKind: RetentionPeriod] = [:]
    /// The YAML source as stored.
    public var source: String

    public func role(_ name: String) -> RolePolicy? { roles[name] }
}
