import VaultCore
import VaultStore

/// The consent history: events come back per customer in id order, ids are numbered past the
/// largest, an id is never stored twice.
enum ConsentConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "consent: events come back per customer in id order, numbered past the largest id", run: events),
    ]

    static func events(_ store: any VaultStore) async throws {
        try requireEqual(try await store.read { tx in try tx.nextConsentEventID() }, 1, "the first id of an empty history")
        let events = [StoredConsentEvent(id: 1, customerID: 7, consent: "marketing_consent", granted: true, at: "2026-01-01T00:00:00Z", tag: [1, 2]),
                      StoredConsentEvent(id: 5, customerID: 8, consent: "profiling_consent", granted: false, at: "2026-01-02T00:00:00Z", tag: nil),
                      StoredConsentEvent(id: 3, customerID: 7, consent: "marketing_consent", granted: false, at: "2026-01-03T00:00:00Z", tag: [3])]
        try await store.write { tx in
            for id: Int64 in [7, 8] { try tx.insert(RecordConformance.customer(id)) }
            for event in events { try tx.insertConsentEvent(event) }
        }
        let (seven, eight, none, next) = try await store.read { tx in
            (try tx.consentEvents(customerID: 7), try tx.consentEvents(customerID: 8), try tx.consentEvents(customerID: 9), try tx.nextConsentEventID())
        }
        try requireEqual(seven, [events[0], events[2]], "customer 7's events in id order")
        try requireEqual(eight, [events[1]], "customer 8's events")
        try requireEqual(none, [], "a customer without events")
        try requireEqual(next, 6, "the next id")
        var refused = false
        do { try await store.write { tx in try tx.insertConsentEvent(events[1]) } } catch { refused = true }
        try require(refused, "event 5 was stored twice")
    }
}
