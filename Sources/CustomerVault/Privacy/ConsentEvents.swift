import Foundation
import GRDB

/// One change of a consent flag: given (`granted`) or withdrawn, and when.
public struct ConsentEvent: Sendable, Equatable, Codable {
    /// The attribute, e.g. `marketing_consent`.
    public var consent: String
    public var granted: Bool
    public var at: String
}

/// Consent flags are plain boolean attributes named `*_consent` (the shipped schema has
/// `marketing_consent`; add others, e.g. `profiling_consent`, to the schema). Policies' row
/// conditions read their current value, so a withdrawal hides the customer from a role that
/// needs consent at its next request; this history keeps when each was given or withdrawn.
enum ConsentEvents {
    static func isConsent(_ attribute: String) -> Bool { attribute.hasSuffix("_consent") }

    /// Every consent flag a new customer starts with.
    static func recordInitial(customerID: Int64, attributes: String, at: String, db: Database) throws {
        let values = try RecordCodec.decodeAttributes(attributes, entity: .customers, id: customerID)
        try recordChanges(customerID: customerID, from: [:], to: values, at: at, db: db)
    }

    /// A row per consent flag whose value changed (a removed flag counts as withdrawn).
    static func recordChanges(customerID: Int64, from old: [String: String], to new: [String: String], at: String, db: Database) throws {
        for name in Set(old.keys).union(new.keys).filter(isConsent).sorted() where old[name] != new[name] {
            guard new[name] != nil || old[name] == "true" else { continue }
            try db.cachedStatement(sql: "INSERT INTO consent_events (customer_id, consent, granted, at) VALUES (?, ?, ?, ?)")
                .execute(arguments: [customerID, name, new[name] == "true", at])
        }
    }

    static func history(customerID: Int64, db: Database) throws -> [ConsentEvent] {
        try Row.fetchAll(db, sql: "SELECT consent, granted, at FROM consent_events WHERE customer_id = ? ORDER BY id", arguments: [customerID]).map {
            ConsentEvent(consent: $0["consent"], granted: $0["granted"], at: $0["at"])
        }
    }
}
