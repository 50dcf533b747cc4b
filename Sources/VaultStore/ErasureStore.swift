package import VaultCore

/// An erasure ledger row as stored: who was erased, when, by whom and why, what was removed (JSON),
/// and the eraser's signature with the access-log entry it names (nil in a vault made before
/// signed erasures). Verified above the store.
package struct StoredErasure: Sendable, Equatable {
    package var customerID: Int64
    package var erasedAt: String
    package var principal: String
    package var purpose: String?
    package var transactions: String
    /// What was removed, as sorted JSON.
    package var removed: String
    package var auditSeq: Int64?
    package var signedBy: String?
    package var signature: [UInt8]?
    /// The signer's proof of identity, as sorted JSON.
    package var signerProof: String?

    package init(customerID: Int64, erasedAt: String, principal: String, purpose: String?, transactions: String, removed: String,
                 auditSeq: Int64?, signedBy: String?, signature: [UInt8]?, signerProof: String?) {
        self.customerID = customerID
        self.erasedAt = erasedAt
        self.principal = principal
        self.purpose = purpose
        self.transactions = transactions
        self.removed = removed
        self.auditSeq = auditSeq
        self.signedBy = signedBy
        self.signature = signature
        self.signerProof = signerProof
    }
}

/// Reading the erasure ledger.
package protocol ErasureReading {
    /// Every ledger row, oldest first.
    func erasures() throws -> [StoredErasure]
}

/// Erasing: the ledger row and the removal of a customer's personal data. Each removal returns
/// how many rows it removed (the ledger records the counts).
package protocol ErasureWriting {
    /// Stores a ledger row; refuses a second row for the same customer.
    func insertErasure(_ erasure: StoredErasure) throws
    /// Removes every sealed value of one record.
    func deleteSealedEntries(_ entity: Entity, recordID: Int64) throws -> Int
    /// Removes the index entries a customer's row commits to (its index digests, in either index),
    /// and returns how many there were. Entries the row does not commit to are not the
    /// customer's (planted, or left by a store that lost a change): the integrity check names them.
    func deleteIndexEntries(customerID: Int64) throws -> Int
    /// Removes a customer's history rows of `entity`, with their sealed values and natural keys.
    func deleteHistoryRows(_ entity: Entity, customerID: Int64) throws -> Int
    /// Removes a customer's behaviour counters.
    func deleteBehaviour(customerID: Int64) throws -> Int
    /// Removes a customer's consent history.
    func deleteConsentEvents(customerID: Int64) throws -> Int
}
