/// A policy kept in the history by its hash, with the root key's signature over it.
package struct StoredPolicy: Sendable, Equatable {
    package var hash: String
    package var source: String
    package var signature: [UInt8]

    package init(hash: String, source: String, signature: [UInt8]) {
        self.hash = hash
        self.source = source
        self.signature = signature
    }
}

/// Reading the vault-wide facts (vault id, format, schema, root public key, policy and their
/// signatures) and the policy history.
package protocol VaultMetaReading {
    /// Every vault-wide fact by name, as stored.
    func metaValues() throws -> [String: [UInt8]]
    /// The policy in the history with `hash`; nil when there is none.
    func historicPolicy(hash: String) throws -> StoredPolicy?
    /// The hashes of every policy in the history.
    func historicPolicyHashes() throws -> [String]
}

/// Changing the vault-wide facts and the policy history.
package protocol VaultMetaWriting {
    /// Stores a fact the vault does not hold yet; refuses one it holds.
    func insertMeta(name: String, value: [UInt8]) throws
    /// Replaces a fact the vault holds.
    func replaceMeta(name: String, value: [UInt8]) throws
    /// Keeps `policy` in the history (a hash already kept is left as it is).
    func recordPolicy(_ policy: StoredPolicy, storedAt: String) throws
}
