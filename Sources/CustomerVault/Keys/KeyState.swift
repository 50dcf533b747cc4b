import Foundation
import GRDB
import VaultCrypto

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
    let principal: String
    let secrets: PrincipalSecrets
    let vaultID: [UInt8]

    init(_ snapshot: Snapshot, principal: String, secrets: PrincipalSecrets, vaultID: [UInt8]) {
        self.state = Mutex(snapshot)
        self.principal = principal
        self.secrets = secrets
        self.vaultID = vaultID
    }

    var current: Snapshot { state.withLock { $0 } }

    /// Changes whenever a data key is added or retired.
    static func epoch(_ db: Database) throws -> String {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT count(*) AS n, coalesce(max(id), 0) AS top FROM data_keys WHERE retired_at IS NULL"))
        return "\(row?["n"] as Int64? ?? 0):\(row?["top"] as Int64? ?? 0)"
    }

    /// Opens every grant the principal holds now.
    static func load(principal: String, secrets: PrincipalSecrets, vaultID: [UInt8], db: Database) throws -> Keyring {
        let record = try PrincipalRecord.fetch(db, name: principal)
        var keys: [KeyScope: SecretBytes] = [:]
        for grant in try record.fetchGrants(db) {
            keys[grant.scope] = try grant.open(principal: principal, secrets: secrets, vaultID: vaultID)
        }
        return Keyring(keys: keys, existingScopes: try KeyScope.fetchExisting(db))
    }

    /// The snapshot to use in this write transaction: reloaded (and write sessions restarted, in
    /// this transaction) when the vault's keys changed since it was taken. The caller publishes it
    /// once the transaction has committed.
    func refreshed(_ db: Database) throws -> Snapshot {
        let epoch = try Self.epoch(db)
        let snapshot = current
        guard epoch != snapshot.epoch else { return snapshot }
        let keyring = try Self.load(principal: principal, secrets: secrets, vaultID: vaultID, db: db)
        let sessions = WriteSessions.writeOnlyScopes(keyring).isEmpty ? .none : try WriteSessions.start(
            principal: try PrincipalRecord.fetch(db, name: principal), signer: secrets.signingKeyPair, keyring: keyring, vaultID: vaultID, db: db)
        return Snapshot(epoch: epoch, keyring: keyring, sessions: sessions)
    }

    /// Makes a snapshot from a committed transaction the current one.
    func publish(_ snapshot: Snapshot) {
        state.withLock { current in
            if current.epoch != snapshot.epoch { current = snapshot }
        }
    }
}
