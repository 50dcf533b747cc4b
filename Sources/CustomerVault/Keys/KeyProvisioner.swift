import Foundation
import VaultCrypto
import VaultCore
import VaultStore

/// What re-provisioning changed in one principal's keyring.
public struct KeyringChange: Sendable, Codable, Equatable {
    public var principal: String
    public var added: Int
    public var removed: Int
}

/// Turns a role's policy into the exact set of keys its principals hold, and makes the stored
/// grants match. Runs as a key custodian, who holds every key and the root signing key.
///
/// | grant in the policy                        | keys granted                         |
/// | ------------------------------------------ | ------------------------------------ |
/// | `view: plain`                              | seal (and mask, to write with `write`) |
/// | `view: masked`                             | mask                                 |
/// | `search`, or `write` on a searchable field | index                                |
/// | `write` without `view: plain`              | seal_public (and mask_public for `none`) |
/// | `customer.search` or `audit.read`          | the vault's audit key (search-term digests) |
/// | `vault.backup`                             | the backup public key (create, not open)  |
/// | `principals.manage` (key custodian)        | every key, root included             |
struct KeyProvisioner {
    let vaultID: [UInt8]
    let schema: Schema
    /// The custodian's keyring: the source of every key handed out.
    let custodian: Keyring
    let root: Ed25519.KeyPair

    init(vaultID: [UInt8], schema: Schema, custodian: Keyring) throws {
        guard let seed = custodian.key(KeyScope(field: KeyScope.vaultWide, purpose: .root, version: 1)) else {
            throw VaultError.accessDenied("access denied: only a key custodian (a role allowed principals.manage) holds the root key")
        }
        self.vaultID = vaultID
        self.schema = schema
        self.custodian = custodian
        self.root = try Ed25519.KeyPair(seed: seed)
    }

    static func requiredScopes(for role: RolePolicy?, schema: Schema, existing: Set<KeyScope>) -> Set<KeyScope> {
        guard let role else { return [] }
        if role.isKeyCustodian { return existing }
        return existing.filter { scope in
            if scope.field == KeyScope.vaultWide {
                switch scope.purpose {
                case .audit: return role.allows(.customerSearch) || role.allows(.auditRead)
                case .backupPublic: return role.allows(.backup)
                case .record: return VaultAction.allCases.contains { $0.usesRecords && role.allows($0) }
                default: return false
                }
            }
            let parts = scope.field.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, let entity = Entity(rawValue: parts[0]), let field = schema.field(entity, parts[1]) else {
                return false
            }
            let grant = role.grant(for: scope.field)
            switch scope.purpose {
            case .seal: return grant.view == .plain
            case .mask: return grant.view == .masked || (grant.view == .plain && grant.write)
            case .index: return grant.search || (grant.write && field.search != nil)
            case .sealPublic: return grant.write && grant.view != .plain
            case .maskPublic: return grant.write && grant.view == .none
            case .root, .backup, .audit, .record, .backupPublic: return false
            }
        }
    }

    /// Makes `principal`'s grants equal to what `role` needs (none for a disabled principal).
    /// - Parameter checkedAgainstLog: The caller checked the record against the access log before it
    ///   changed it in this transaction (``CustomerVault/updatePrincipal(_:role:setting:removing:rotatingLostKeys:batchSize:progress:)``,
    ///   whose own entry is appended at commit).
    func provision(_ principal: PrincipalRecord, role: RolePolicy?, checkedAgainstLog: Bool = false, in tx: some StoreWriting) throws -> KeyringChange {
        guard let principalID = principal.id else { throw VaultError.io("principal \(principal.name) has no id") }
        // Keys are sealed to the box public key in the file: only to one the root key certified (a
        // key replaced in the file would otherwise receive every key granted from now on).
        try principal.verifyCertificate(vaultID: vaultID, rootPublicKey: root.publicKey)
        let keyIDs = try tx.liveDataKeyIDs()
        let required = Self.requiredScopes(for: principal.disabled ? nil : role, schema: schema, existing: Set(keyIDs.keys))
        let held = Set(try tx.grants(of: principal).map(\.scope))
        var removed = 0
        for scope in held.subtracting(required) {
            guard let keyID = keyIDs[scope] else { continue }
            try tx.deleteGrant(principalID: principalID, keyID: keyID)
            removed += 1
        }
        let missing = required.subtracting(held)
        if !missing.isEmpty && !checkedAgainstLog {
            // Never grant to a principal record the log contradicts (put back to before its
            // disable or credential change), nor over a log with entries deleted.
            try AuditFacts.requireContiguous(tx)
            try AuditFacts.checkPrincipal(principal, in: tx, vaultID: vaultID, rootPublicKey: root.publicKey)
        }
        for scope in missing {
            guard let keyID = keyIDs[scope], let material = try custodian.material(for: scope) else {
                throw VaultError.accessDenied("access denied: the custodian does not hold key \(scope), so it cannot grant it")
            }
            let grant = try KeyGrant.issue(key: material, scope: scope, to: principal.name, boxPublicKey: principal.boxPublicKey,
                                           vaultID: vaultID, root: root)
            try tx.insertGrant(grant, principalID: principalID, keyID: keyID)
        }
        return KeyringChange(principal: principal.name, added: missing.count, removed: removed)
    }

    /// Creates the data keys of every personal field (version 1) and returns them.
    static func generateFieldKeys(schema: Schema) throws -> [KeyScope: SecretBytes] {
        var keys: [KeyScope: SecretBytes] = [:]
        for entity in Entity.allCases {
            for field in schema.personalFields(of: entity) {
                let name = KeyScope.fieldName(entity, field.name)
                keys[KeyScope(field: name, purpose: .seal, version: 1)] = try SecretBytes(randomCount: 32)
                if field.mask != nil {
                    keys[KeyScope(field: name, purpose: .mask, version: 1)] = try SecretBytes(randomCount: 32)
                }
                if field.search != nil {
                    keys[KeyScope(field: name, purpose: .index, version: 1)] = try SecretBytes(randomCount: 32)
                }
            }
        }
        return keys
    }

    /// Records data keys (and the public twins of seal and mask keys) in `data_keys`, each row
    /// tagged with the record key (`integrity`: the record key among `keys`, or the custodian's).
    static func recordKeys(_ keys: [KeyScope: SecretBytes], integrity: RecordIntegrity, in tx: some StoreWriting, now: String) throws {
        func insert(_ scope: KeyScope, publicKey: [UInt8]?) throws {
            let id = try tx.insertDataKey(scope: scope, publicKey: publicKey, createdAt: now)
            try tx.setDataKeyTag(id: id, tag: try integrity.dataKey(id: id, scope: scope, publicKey: publicKey, retiredAt: nil))
        }
        for (scope, key) in keys.sorted(by: { $0.key.description < $1.key.description }) {
            try insert(scope, publicKey: nil)
            if let twin = scope.purpose.publicTwin {
                try insert(KeyScope(field: scope.field, purpose: twin, version: scope.version), publicKey: try WriteKeyPair.derive(from: key).publicKey)
            }
        }
    }

    /// Checks every row of `data_keys` against its tag.
    static func verifyKeyTable(_ keys: [StoredDataKey], integrity: RecordIntegrity) throws {
        for key in keys {
            try RecordIntegrity.check(key.tag, try integrity.dataKey(id: key.id, scope: key.scope, publicKey: key.publicKey, retiredAt: key.retiredAt),
                                      "data_keys \(key.id) (\(key.scope))")
        }
    }
}
