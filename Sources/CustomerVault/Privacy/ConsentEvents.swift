import Foundation
import VaultCore
import VaultStore

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
    static func recordInitial(_ consents: [(name: String, granted: Bool)], customerID: Int64, at: String, integrity: RecordIntegrity,
                              numbering: Numbering, in tx: some StoreWriting) throws {
        for consent in consents {
            try insert(customerID: customerID, consent: consent.name, granted: consent.granted, at: at, integrity: integrity,
                       numbering: numbering, in: tx)
        }
    }

    /// Event ids within one write transaction: the largest id is read once, then counted up (the
    /// write lock keeps every other writer out meanwhile).
    final class Numbering {
        private var next: Int64?

        init() {}

        func take(_ tx: some ConsentReading) throws -> Int64 {
            if let next {
                self.next = next + 1
                return next
            }
            let first = try tx.nextConsentEventID()
            next = first + 1
            return first
        }
    }

    /// A row per consent flag whose value changed (a removed flag counts as withdrawn).
    ///
    /// - Parameter numbering: The ids a batch hands out (an import numbers its new customers' events
    ///   from the same counter), else read from the table.
    static func recordChanges(customerID: Int64, from old: [String: String], to new: [String: String], at: String,
                              integrity: RecordIntegrity, numbering: Numbering? = nil, in tx: some StoreWriting) throws {
        for name in Set(old.keys).union(new.keys).filter(isConsent).sorted() where old[name] != new[name] {
            guard new[name] != nil || old[name] == "true" else { continue }
            try insert(customerID: customerID, consent: name, granted: new[name] == "true", at: at, integrity: integrity,
                       numbering: numbering ?? Numbering(), in: tx)
        }
    }

    /// Inserts one event with the next id and its tag (the id is bound into the tag, so events
    /// cannot be reordered in the file).
    private static func insert(customerID: Int64, consent: String, granted: Bool, at: String, integrity: RecordIntegrity,
                               numbering: Numbering, in tx: some StoreWriting) throws {
        let id = try numbering.take(tx)
        try tx.insertConsentEvent(StoredConsentEvent(id: id, customerID: customerID, consent: consent, granted: granted, at: at,
                                                     tag: try integrity.consent(id: id, customerID: customerID, consent: consent, granted: granted, at: at)))
    }

    /// A customer's consent history, oldest first, each event checked against its tag.
    static func history(customerID: Int64, integrity: RecordIntegrity, in tx: some ConsentReading) throws -> [ConsentEvent] {
        try tx.consentEvents(customerID: customerID).map { stored in
            let event = ConsentEvent(consent: stored.consent, granted: stored.granted, at: stored.at)
            try RecordIntegrity.check(stored.tag, try integrity.consent(id: stored.id, customerID: customerID, consent: event.consent,
                                                                         granted: event.granted, at: event.at), "consent_events \(stored.id)")
            return event
        }
    }
}
