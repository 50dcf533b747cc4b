import VaultCore
import VaultStore

/// What the services ask of the key store in their own terms: a principal that must exist, the
/// grants a principal holds now, the live data keys.
extension KeyStoreReading {
    /// The principal named `name`.
    ///
    /// - Throws: ``VaultError`` `.notFound` when the vault has none of that name.
    func requirePrincipal(named name: String) throws -> PrincipalRecord {
        guard let record = try principal(named: name) else { throw VaultError.notFound("no principal named \(name) in this vault") }
        return record
    }

    /// The principal a record refers to by id.
    ///
    /// - Throws: ``VaultError`` `.integrity` when there is none (the reference was altered).
    func requirePrincipal(id: Int64) throws -> PrincipalRecord {
        guard let record = try principal(id: id) else { throw VaultError.integrity("a record refers to principal \(id), which does not exist") }
        return record
    }

    /// The grants `record` holds of live data keys.
    func grants(of record: PrincipalRecord) throws -> [KeyGrant] {
        try grants(principalID: record.id ?? 0, includingRetired: false).map(\.grant)
    }

    /// The live data keys by scope, with their ids.
    func liveDataKeyIDs() throws -> [KeyScope: Int64] {
        var ids: [KeyScope: Int64] = [:]
        for key in try dataKeys() where key.retiredAt == nil { ids[key.scope] = key.id }
        return ids
    }

    /// Every live key the vault has, granted to anyone.
    func existingScopes() throws -> Set<KeyScope> { Set(try liveDataKeyIDs().keys) }
}
