package import VaultCore

/// An access-log entry as stored: what was said (``AuditEntry``), where it sits in the chain, and
/// its seal (hash and the acting principal's signature, see ``AuditChain``). The store keeps these
/// bytes as given; verification happens above it.
package struct StoredAuditEntry: Sendable, Equatable {
    package var seq: Int64
    package var format: Int64
    package var entry: AuditEntry
    package var previousHash: [UInt8]
    package var hash: [UInt8]
    package var signature: [UInt8]

    package init(seq: Int64, format: Int64, entry: AuditEntry, previousHash: [UInt8], hash: [UInt8], signature: [UInt8]) {
        self.seq = seq
        self.format = format
        self.entry = entry
        self.previousHash = previousHash
        self.hash = hash
        self.signature = signature
    }
}

/// The newest entry's position in the chain.
package struct AuditHead: Sendable, Equatable {
    package var seq: Int64
    package var hash: [UInt8]

    package init(seq: Int64, hash: [UInt8]) {
        self.seq = seq
        self.hash = hash
    }
}

/// Which entries a log query returns: sequence numbers in `after ..< through]`, oldest first,
/// optionally of one principal and one action.
package struct AuditQuery: Sendable, Equatable {
    package var after: Int64
    package var through: Int64
    package var principal: String?
    package var action: String?

    package init(after: Int64 = 0, through: Int64 = .max, principal: String? = nil, action: String? = nil) {
        self.after = after
        self.through = through
        self.principal = principal
        self.action = action
    }
}

/// Reading the access log.
package protocol AuditLogReading {
    /// The newest entry's sequence number and hash; nil for an empty log.
    func auditHead() throws -> AuditHead?

    /// How many entries the log holds, and the highest sequence number (0 for none): a gap between
    /// them is a deleted entry.
    func auditExtent() throws -> (count: Int64, top: Int64)

    /// Calls `body` with each entry `query` selects, oldest first, until it returns false.
    func forEachAuditEntry(_ query: AuditQuery, _ body: (StoredAuditEntry) throws -> Bool) throws

    /// The newest allowed entry of `action` (by `principal`, naming `target`, when given) whose
    /// detail starts with `detailPrefix`; nil when there is none.
    func newestAllowedAuditEntry(action: String, principal: String?, target: String?, detailPrefix: String) throws -> StoredAuditEntry?
}

/// Appending to the access log. Entries are never changed or removed through the store.
package protocol AuditLogWriting {
    /// Appends `entry`, which must follow the head (its `seq` one more, its `previousHash` the
    /// head's hash); the store refuses a sequence number it already holds.
    func appendAuditEntry(_ entry: StoredAuditEntry) throws
}
