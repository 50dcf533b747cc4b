import Foundation
import VaultCrypto
import VaultCore
import VaultStore

/// The unlocked principal's keyring and write sessions, refreshed when the vault's set of keys
/// changes (a rotation or retirement by this or another process), so long-running processes keep
/// reading and writing through a rotation.
final class KeyState: Sendable {
    struct Snapshot: Sendable {
        var epoch: String
        var keyring: Keyring
        var sessions: WriteSessions
    }

    private let state: Mutex<Snapshot>
    /// Set when a credential change replaced this principal's key pairs: the handle holding the old
    /// ones must not sign or seal anything more.
    private let replaced = Mutex(false)
    let principal: String
    /// The role and attributes this handle decides with, as they were when it opened.
    let role: String
    let attributes: [String: String]
    let secrets: PrincipalSecrets
    let vaultID: [UInt8]
    init(_ snapshot: Snapshot, principal: String, role: String, attributes: [String: String], secrets: PrincipalSecrets, vaultID: [UInt8]) {
        self.state = Mutex(snapshot)
        self.principal = principal
        self.role = role
        self.attributes = attributes
        self.secrets = secrets
        self.vaultID = vaultID
    }

    var current: Snapshot { state.withLock { $0 } }

    func markReplaced() { replaced.withLock { $0 = true } }

    func requireCurrent() throws {
        guard !replaced.withLock({ $0 }) else {
            throw VaultError.invalidInput("this vault handle's keys were replaced by a credential change; use the handle `changeCredential` returned")
        }
    }

    /// Opens every grant the principal holds now. With the record key among them, every row of
    /// `data_keys` is checked against its tag; with a `requirement`, a grant the role needs but the
    /// file lacks is an integrity error (grants change only with the policy, in one transaction).
    static func load(principal: String, secrets: PrincipalSecrets, vaultID: [UInt8], requirement: KeyRequirement?,
                     in tx: some StoreReading) throws -> Keyring {
        let record = try tx.requirePrincipal(named: principal)
        var keys: [KeyScope: SecretBytes] = [:]
        for grant in try tx.grants(of: record) {
            keys[grant.scope] = try grant.open(principal: principal, secrets: secrets, vaultID: vaultID)
        }
        let dataKeys = try tx.dataKeys()
        let existing = Set(dataKeys.filter { $0.retiredAt == nil }.map(\.scope))
        if let key = keys[RecordIntegrity.scope] {
            try KeyProvisioner.verifyKeyTable(dataKeys, integrity: RecordIntegrity(key: key, vaultID: vaultID))
        }
        if let requirement {
            let missing = KeyProvisioner.requiredScopes(for: requirement.role, schema: requirement.schema, existing: existing).subtracting(keys.keys)
            guard missing.isEmpty else {
                throw VaultError.integrity("principal \(principal) lacks \(missing.count) key grants its role needs (\(missing.map(\.description).sorted().prefix(3).joined(separator: ", ")); removed in the file?)")
            }
        }
        return Keyring(keys: keys, existingScopes: existing)
    }

    /// The snapshot to use in this write transaction: reloaded (without write sessions) when the
    /// vault's keys changed since it was taken. The caller publishes it
    /// once the transaction has committed.
    func refreshed(_ tx: some StoreWriting) throws -> Snapshot {
        // A principal disabled, or given another role or attributes, while this handle is open
        // stops here, at its next request: its decisions would follow what it was.
        guard let standing = try tx.principalStanding(named: principal), standing.enabled else {
            throw VaultError.accessDenied("principal \(principal) is disabled (or no longer exists)")
        }
        guard standing.role == role, standing.attributes == attributes else {
            throw VaultError.accessDenied("principal \(principal) was given another role or attributes since this handle opened; open the vault again")
        }
        let epoch = try tx.dataKeyEpoch()
        let snapshot = current
        guard epoch != snapshot.epoch else { return snapshot }
        // The role's requirement is checked at open, against the policy then in force; a policy
        // applied since by another process may have removed grants this handle's role had.
        // Sessions of the old keys end here; the gate starts new ones when a request may write.
        let keyring = try Self.load(principal: principal, secrets: secrets, vaultID: vaultID, requirement: nil, in: tx)
        return Snapshot(epoch: epoch, keyring: keyring, sessions: .none)
    }

    /// Makes a snapshot from a committed transaction the current one (with `force`, even when the
    /// key epoch did not change: new write sessions of the same keyring).
    func publish(_ snapshot: Snapshot, force: Bool = false) {
        state.withLock { current in
            if force || current.epoch != snapshot.epoch { current = snapshot }
        }
    }
}

/// The role and schema a keyring is checked against.
struct KeyRequirement: Sendable {
    var role: RolePolicy?
    var schema: Schema
}
