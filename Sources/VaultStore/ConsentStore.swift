/// One change of a customer's consent flag as stored, with the record key's tag over it (the id
/// is bound into the tag, so events cannot be reordered).
package struct StoredConsentEvent: Sendable, Equatable {
    package var id: Int64
    package var customerID: Int64
    package var consent: String
    package var granted: Bool
    package var at: String
    package var tag: [UInt8]?

    package init(id: Int64, customerID: Int64, consent: String, granted: Bool, at: String, tag: [UInt8]?) {
        self.id = id
        self.customerID = customerID
        self.consent = consent
        self.granted = granted
        self.at = at
        self.tag = tag
    }
}

/// Reading the consent history.
package protocol ConsentReading {
    /// A customer's consent events, in id order.
    func consentEvents(customerID: Int64) throws -> [StoredConsentEvent]
    /// One more than the largest event id stored (1 for none).
    func nextConsentEventID() throws -> Int64
    /// The customers that have consent events, in id order.
    func consentCustomerIDs() throws -> [Int64]
}

/// Adding to the consent history (events are never changed).
package protocol ConsentWriting {
    /// Stores an event; refuses an id already held.
    func insertConsentEvent(_ event: StoredConsentEvent) throws
}
