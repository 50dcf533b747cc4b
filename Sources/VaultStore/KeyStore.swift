package import VaultCore

/// A key grant as stored: the data key it seals (by id) and the grant itself.
package struct StoredGrant: Sendable, Equatable {
    package var keyID: Int64
    package var grant: KeyGrant

    package init(keyID: Int64, grant: KeyGrant) {
        self.keyID = keyID
        self.grant = grant
    }
}

/// A data key's row: its scope, the public twin of a seal or mask key, when it was retired, and
/// the record key's tag over all of it (checked above the store).
package struct StoredDataKey: Sendable, Equatable {
    package var id: Int64
    package var scope: KeyScope
    package var publicKey: [UInt8]?
    package var retiredAt: String?
    package var tag: [UInt8]?

    package init(id: Int64, scope: KeyScope, publicKey: [UInt8]?, retiredAt: String?, tag: [UInt8]?) {
        self.id = id
        self.scope = scope
        self.publicKey = publicKey
        self.retiredAt = retiredAt
        self.tag = tag
    }
}

/// A principal's standing as the gate checks it before every request: whether it is enabled, and
/// the role and attributes its decisions follow.
package struct PrincipalStanding: Sendable, Equatable {
    package var id: Int64
    package var enabled: Bool
    package var role: String
    package var attributes: [String: String]

    package init(id: Int64, enabled: Bool, role: String, attributes: [String: String]) {
        self.id = id
        self.enabled = enabled
        self.role = role
        self.attributes = attributes
    }
}

/// Reading principals, their key chains, data keys and grants.
package protocol KeyStoreReading {
    /// The principal named `name` with its key chain; nil when there is none.
    func principal(named name: String) throws -> PrincipalRecord?
    /// The principal with id `id` with its key chain; nil when there is none.
    func principal(id: Int64) throws -> PrincipalRecord?
    /// Every principal, by name.
    func principals() throws -> [PrincipalRecord]
    /// The standing of the principal named `name` (the hot path of every request); nil when none.
    func principalStanding(named name: String) throws -> PrincipalStanding?

    /// The grants a principal holds, of live data keys only unless `includingRetired`.
    func grants(principalID: Int64, includingRetired: Bool) throws -> [StoredGrant]
    /// How many grants a principal holds (of any key).
    func grantCount(principalID: Int64) throws -> Int

    /// Every data key, live or retired, by id.
    func dataKeys() throws -> [StoredDataKey]
    /// A value that changes whenever a data key is added or retired (write sessions and keyrings
    /// reload when it does).
    func dataKeyEpoch() throws -> String
}

/// Changing principals, data keys and grants.
package protocol KeyStoreWriting {
    /// Stores a new principal and its key chain; returns its id. Refuses a name already held.
    func insertPrincipal(_ record: PrincipalRecord) throws -> Int64
    /// Adds a version to a principal's key chain.
    func insertPrincipalKey(_ key: PrincipalKey, principalID: Int64) throws
    /// Stores a principal's disabled state and the certificate that covers it.
    func updatePrincipalDisabled(id: Int64, disabledAtSeq: Int64?, certificate: [UInt8]?) throws
    /// Stores a principal's role and attributes and the certificate that covers them.
    func updatePrincipalIdentity(id: Int64, role: String, attributes: [String: String], certificate: [UInt8]?) throws
    /// Stores a principal's new credential: its parameters, check value, wrapped secrets and
    /// current public keys (``PrincipalRecord``'s fields of those names).
    func updatePrincipalCredential(_ record: PrincipalRecord) throws

    /// Stores a data key's row (without a tag); returns its id.
    func insertDataKey(scope: KeyScope, publicKey: [UInt8]?, createdAt: String) throws -> Int64
    /// Stores the record key's tag over a data key's row.
    func setDataKeyTag(id: Int64, tag: [UInt8]) throws
    /// Retires a data key: every grant of it is deleted, its public twin forgotten, and `tag` (over
    /// the retired row) stored.
    func retireDataKey(id: Int64, at retiredAt: String, tag: [UInt8]) throws

    func insertGrant(_ grant: KeyGrant, principalID: Int64, keyID: Int64) throws
    func deleteGrant(principalID: Int64, keyID: Int64) throws
    /// Replaces the sealing of a grant (the same key sealed to a principal's new box key).
    func replaceGrantSealedKey(principalID: Int64, keyID: Int64, sealedKey: [UInt8]) throws
}
