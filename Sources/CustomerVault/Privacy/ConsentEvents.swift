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

    /// The consent flags a new customer starts with, from its plain attributes: what
    /// ``recordChanges(customerID:from:to:at:db:)`` would record against no earlier values.
    /// Pure, so a batch computes it on all cores.
    static func initial(_ attributes: [String: String]) -> [(name: String, granted: Bool)] {
        attributes.keys.filter(isConsent).sorted().map { ($0, attributes[$0] == "true") }
    }

    /// Records a new customer's consent flags (from ``initial(_:)``), each the first event of its history.
    static func recordInitial(_ consents: [(name: String, granted: Bool)], customerID: Int64, at: String, db: Database) throws {
        guard !consents.isEmpty else { return }
        let insert = try BulkStatement(db, sql: "INSERT INTO consent_events (customer_id, consent, granted, at) VALUES (?, ?, ?, ?)")
        try insert.bind(1, customerID)
        try insert.bind(4, at)
        for consent in consents {
            try insert.bind(2, consent.name)
            try insert.bind(3, Int64(consent.granted ? 1 : 0))
            try insert.execute()
        }
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
