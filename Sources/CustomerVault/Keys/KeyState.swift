import Foundation
import GRDB
import VaultSQLite
import VaultCrypto
import VaultCore

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

    /// Changes whenever a data key is added or retired.
    static func epoch(_ db: Database) throws -> String {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT count(*) AS n, coalesce(max(id), 0) AS top FROM data_keys WHERE retired_at IS NULL"))
        return "\(row?["n"] as Int64? ?? 0):\(row?["top"] as Int64? ?? 0)"
    }

    /// Opens every grant the principal holds now. With the record key among them, every row of
    /// `data_keys` is checked against its tag; with a `requirement`, a grant the role needs but the
    /// file lacks is an integrity error (grants change only with the policy, in one transaction).
    static func load(principal: String, secrets: PrincipalSecrets, vaultID: [UInt8], requirement: KeyRequirement?,
                     db: Database) throws -> Keyring {
        let record = try PrincipalRecord.fetch(db, name: principal)
        var keys: [KeyScope: SecretBytes] = [:]
        for grant in try record.fetchGrants(db) {
            keys[grant.scope] = try grant.open(principal: principal, secrets: secrets, vaultID: vaultID)
        }
        let existing = try KeyScope.fetchExisting(db)
        if let key = keys[RecordIntegrity.scope] {
            try KeyProvisioner.verifyKeyTable(db, integrity: RecordIntegrity(key: key, vaultID: vaultID))
        }
        if let requirement {
            let missing = KeyProvisioner.requiredScopes(for: requirement.role, schema: requirement.schema, existing: existing).subtracting(keys.keys)
            guard missing.isEmpty else {
                throw VaultError.integrity("principal \(principal) lacks \(missing.count) key grants its role needs (\(missing.map(\.description).sorted().prefix(3).joined(separator: ", ")); removed in the file?)")
            }
        }
        return Keyring(keys: keys, existingScopes: existing)
    }

    /// The snapshot to use in this write transaction: reloaded (and write sessions restarted, in
    /// this transaction) when the vault's keys changed since it was taken. The caller publishes it
    /// once the transaction has committed.
    func refreshed(_ db: Database, policyHash: String) throws -> Snapshot {
        // A principal disabled, or given another role or attributes, while this handle is open
        // stops here, at its next request: its decisions would follow what it was.
        let stored = try BulkStatement(db, sql: "SELECT disabled = 0, role, attributes, id FROM principals WHERE name = ?")
        try stored.bind(1, principal)
        guard try stored.next(), stored.int64(0) == 1 else {
            stored.reset()
            throw VaultError.accessDenied("principal \(principal) is disabled (or no longer exists)")
        }
        let (storedRole, storedAttributes, id) = (stored.text(1), stored.text(2), stored.int64(3))
        stored.reset()
        guard storedRole == role, try RecordCodec.decodeAttributes(storedAttributes, entity: nil, id: id) == attributes else {
            throw VaultError.accessDenied("principal \(principal) was given another role or attributes since this handle opened; open the vault again")
        }
        let epoch = try Self.epoch(db)
        let snapshot = current
        guard epoch != snapshot.epoch else { return snapshot }
        // The role's requirement is checked at open, against the policy then in force; a policy
        // applied since by another process may have removed grants this handle's role had.
        let keyring = try Self.load(principal: principal, secrets: secrets, vaultID: vaultID, requirement: nil, db: db)
        let sessions = WriteSessions.writeOnlyScopes(keyring).isEmpty ? .none : try WriteSessions.start(
            principal: try PrincipalRecord.fetch(db, name: principal), signer: secrets.signingKeyPair, keyring: keyring, vaultID: vaultID,
            policyHash: policyHash, db: db)
        return Snapshot(epoch: epoch, keyring: keyring, sessions: sessions)
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
