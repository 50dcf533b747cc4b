import Foundation
public import VaultCrypto
import VaultCore
import VaultStore

/// What ``CustomerVault/updatePrincipal(_:role:setting:removing:rotatingLostKeys:batchSize:progress:)`` did.
public struct PrincipalUpdate: Sendable, Equatable, Codable {
    public var name: String
    public var role: String
    public var previousRole: String
    public var attributes: [String: String]
    public var keysAdded: Int
    public var keysRemoved: Int
    /// Fields none of whose keys the principal holds any more (`customers.email`, …).
    public var fieldsLost: [String]
    /// Fields rotated afterwards (with `rotatingLostKeys`).
    public var rotated: [String]
}

/// A principal as `principal list` shows it: no key material.
public struct PrincipalInfo: Sendable, Equatable, Codable {
    public var name: String
    public var role: String
    public var attributes: [String: String]
    /// `passphrase` or `key_file`.
    public var credential: String
    public var disabled: Bool
    /// Number of key grants it holds.
    public var keys: Int
}

extension CustomerVault {
    /// Adds a principal with its own credential and provisions its keyring from its role.
    ///
    /// The new principal's keys are sealed to its fresh X25519 public key; only `credential`
    /// unlocks them. Needs `principals.manage` (a key custodian).
    ///
    /// - Throws: ``VaultError`` `.invalidInput` (bad name, unknown role, bad attributes),
    ///   `.conflict` (name taken), `.accessDenied`.
    func addPrincipal(_ name: String, role: String, attributes: [String: String] = [:], credential: Credential,
                             kdf: Argon2id.Parameters = .interactive) async throws -> PrincipalInfo {
        try await requireAllowed(AccessRequest(.principalsManage))
        try PrincipalRecord.validateName(name)
        try PrincipalRecord.validateAttributes(attributes)
        guard let rolePolicy = policy.role(role) else {
            throw VaultError.invalidInput("role \(PolicyLoader.shown(role)) is not defined in the policy in force (roles: \(policy.roles.keys.sorted().joined(separator: ", ")))")
        }
        guard kdf.isWithinAcceptedRange else { throw VaultError.invalidInput("Argon2id parameters are outside the accepted range") }
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: keyring)
        let secrets = try PrincipalSecrets.generate(rootSigningPublicKey: provisioner.root.publicKey)
        var record = try PrincipalRecord.make(name: name, role: role, attributes: attributes, credential: credential, kdf: kdf,
                                              secrets: secrets, vaultID: vaultIDBytes)
        try record.certify(vaultID: vaultIDBytes, root: provisioner.root)
        let prepared = record
        return try await perform(AccessRequest(.principalsManage)) { tx, note in
            note.target = "principal:\(name)"
            let tx = tx
            guard try tx.principal(named: name) == nil else {
                throw VaultError.conflict("a principal named \(name) already exists")
            }
            var stored = prepared
            stored.id = try tx.insertPrincipal(prepared)
            let change = try provisioner.provision(stored, role: rolePolicy, in: tx)
            note.detail = "added with role \(role), \(change.added) keys"
            return PrincipalInfo(name: name, role: role, attributes: attributes, credential: credential.kind.rawValue,
                                 disabled: false, keys: change.added)
        }
    }

    /// Every principal of the vault (needs `principals.manage`).
    func listPrincipals() async throws -> [PrincipalInfo] {
        try await perform(AccessRequest(.principalsManage)) { [vaultIDBytes, secrets] tx, note in
            note.target = "principals"
            return try tx.principals().map { record in
                try record.verifyCertificate(vaultID: vaultIDBytes, rootPublicKey: secrets.rootSigningPublicKey)
                return PrincipalInfo(name: record.name, role: record.role, attributes: record.attributes, credential: record.parameters.kind.rawValue,
                              disabled: record.disabled,
                              keys: try tx.grantCount(principalID: record.id ?? 0))
            }
        }
    }

    /// Disables a principal and deletes its keyring. Its credential then unlocks nothing; its
    /// access-log entries and the values it wrote stay. With `rotatingItsKeys`, every field whose
    /// keys it held is then rotated, so keys it may have copied open nothing written or re-encrypted
    /// afterwards (retire the old versions once the rotation is done).
    @discardableResult
    func disablePrincipal(_ name: String, rotatingItsKeys: Bool = false, batchSize: Int = defaultRotationBatchSize,
                                 progress: (@Sendable (RotationProgress) -> Void)? = nil) async throws -> RotationReport? {
        try await requireAllowed(AccessRequest(.principalsManage))
        guard name != principal else { throw VaultError.invalidInput("a principal cannot disable itself") }
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: keyring)
        let heldFields = try await perform(AccessRequest(.principalsManage)) { [vaultIDBytes] tx, note in
            note.target = "principal:\(name)"
            var record = try tx.requirePrincipal(named: name)
            guard !record.disabled else { throw VaultError.conflict("principal \(name) is already disabled") }
            try record.verifyCertificate(vaultID: vaultIDBytes, rootPublicKey: provisioner.root.publicKey)
            let held = Set(try tx.grants(of: record).map(\.scope.field).filter { $0 != KeyScope.vaultWide })
            // The disabled state goes into a new root certificate, with the access-log entry from
            // which it holds: a flag flipped back in the file no longer matches the certificate.
            record.disabled = true
            record.disabledAtSeq = try AuditTrail.nextSeq(tx)
            try record.certify(vaultID: vaultIDBytes, root: provisioner.root)
            try tx.updatePrincipalDisabled(id: record.id ?? 0, disabledAtSeq: record.disabledAtSeq, certificate: record.certificate)
            let sessions = try WriteSessions.countersign(of: record, vaultID: vaultIDBytes, root: provisioner.root, in: tx)
            let change = try provisioner.provision(record, role: nil, in: tx)
            note.detail = "disabled, \(change.removed) keys removed, \(sessions) write sessions countersigned"
            return held.sorted()
        }
        guard rotatingItsKeys, !heldFields.isEmpty else { return nil }
        return try await rotateKeys(fields: heldFields, batchSize: batchSize, progress: progress)
    }

    /// Changes the unlocked principal's own credential, and with it its key pairs: a revocation of
    /// the old credential. In one transaction it makes fresh X25519 and Ed25519 key pairs (key
    /// version n+1, endorsed by version n and valid for access-log entries after this one), seals
    /// every key grant again to the new box key, signs its write sessions again with the new signing
    /// key, and wraps the new secrets under the new credential. Afterwards the old credential, even
    /// with an old copy of the file, opens none of the grants in the file, and its signing key signs
    /// nothing the vault accepts. This handle can no longer be used; use the one returned.
    ///
    /// - Throws: ``VaultError`` `.unsupported` when a grant predates format 2 (a key custodian's
    ///   first open upgrades them).
    @discardableResult
    func changeCredential(to credential: Credential, kdf: Argon2id.Parameters = .interactive) async throws -> CustomerVault {
        guard kdf.isWithinAcceptedRange else { throw VaultError.invalidInput("Argon2id parameters are outside the accepted range") }
        let parameters = CredentialParameters.fresh(for: credential, argon2: kdf)
        let kek = try parameters.deriveKEK(from: credential, principal: principal)
        let check = try CredentialParameters.check(kek: kek)
        let fresh = try PrincipalSecrets.generate(rootSigningPublicKey: secrets.rootSigningPublicKey)
        try await perform(AccessRequest(.credentialChange)) { [secrets, vaultIDBytes, principal] tx, note in
            note.target = "principal:\(principal)"
            var record = try tx.requirePrincipal(named: principal)
            try record.verifyCertificate(vaultID: vaultIDBytes, rootPublicKey: secrets.rootSigningPublicKey)
            guard record.signPublicKey == secrets.signingKeyPair.publicKey else {
                throw VaultError.integrity("principal \(principal): the keys in the file are not the ones this handle unlocked")
            }
            // Every grant, opened with the old box key and sealed to the new one; the root signature
            // covers the key, not the sealing, so it stays valid.
            var grants: [(keyID: Int64, grant: KeyGrant)] = []
            let tx = tx
            for stored in try tx.grants(principalID: record.id ?? 0, includingRetired: true) {
                let key = try stored.grant.open(principal: principal, secrets: secrets, vaultID: vaultIDBytes)
                grants.append((stored.keyID, try stored.grant.resealed(key: key, to: fresh.boxKeyPair.publicKey)))
            }
            for (keyID, grant) in grants {
                try tx.replaceGrantSealedKey(principalID: record.id ?? 0, keyID: keyID, sealedKey: grant.sealedKey)
            }
            // The new key version signs from the entry after this one (which the old key signs).
            var key = PrincipalKey(version: record.keyVersion + 1, boxPublicKey: fresh.boxKeyPair.publicKey,
                                   signPublicKey: fresh.signingKeyPair.publicKey, fromSeq: try AuditTrail.nextSeq(tx) + 1, endorsement: nil)
            key.endorsement = try Ed25519.sign(key.endorsedMessage(vaultID: vaultIDBytes, principal: principal), with: secrets.signingKeyPair)
            try tx.insertPrincipalKey(key, principalID: record.id ?? 0)
            let sessions = try WriteSessions.resign(of: record, with: fresh.signingKeyPair, vaultID: vaultIDBytes, in: tx)
            let version = record.credentialVersion + 1
            let wrapped = try fresh.wrap(kek: kek, associatedData: PrincipalSecrets.associatedData(
                vaultID: vaultIDBytes, principal: principal, credentialVersion: version))
            record.parameters = parameters
            record.credentialCheck = check
            record.wrappedSecrets = wrapped
            record.credentialVersion = version
            record.boxPublicKey = fresh.boxKeyPair.publicKey
            record.signPublicKey = fresh.signingKeyPair.publicKey
            record.keys.append(key)
            try tx.updatePrincipalCredential(record)
            note.detail = "credential changed to \(parameters.kind.rawValue), version \(version); new key pairs (key version \(key.version)), "
                + "\(grants.count) grants sealed again, \(sessions) write sessions signed again"
        }
        keyState.markReplaced()
        let renewed = try await Self.open(at: path, principal: principal, credential: credential, derived: (parameters, kek))
        try? gate.close()
        return try renewed.withPurposeIfSet(purpose, reason: reason)
    }

    /// Changes a principal's role or attributes (action `principals.manage`, a key custodian), in
    /// one transaction: a new root certificate, its write sessions countersigned for fields the new
    /// role may not write (so what it wrote stays readable), and its keyring re-provisioned for the
    /// new role: keys the role needs are granted, keys it no longer needs are deleted. A key the
    /// principal may have copied before stays usable on old copies of the file; with
    /// `rotatingLostKeys`, every field whose keys it lost is then rotated.
    ///
    /// - Parameters:
    ///   - role: The new role; nil keeps it.
    ///   - attributes: Attributes to set (replacing a value); `removing` names ones to drop.
    /// - Throws: ``VaultError`` `.invalidInput` (nothing to change, unknown role, bad attributes,
    ///   your own role losing `principals.manage`), `.notFound`, `.conflict` for a disabled principal.
    func updatePrincipal(_ name: String, role newRole: String? = nil, setting attributes: [String: String] = [:], removing: [String] = [],
                                rotatingLostKeys: Bool = false, batchSize: Int = defaultRotationBatchSize,
                                progress: (@Sendable (RotationProgress) -> Void)? = nil) async throws -> PrincipalUpdate {
        try await requireAllowed(AccessRequest(.principalsManage))
        guard newRole != nil || !attributes.isEmpty || !removing.isEmpty else {
            throw VaultError.invalidInput("nothing to change: give a new role or attributes to set or remove")
        }
        if let overlap = removing.first(where: { attributes[$0] != nil }) {
            throw VaultError.invalidInput("attribute \(PolicyLoader.shown(overlap)) is both set and removed")
        }
        var rolePolicy: RolePolicy?
        if let newRole {
            guard let found = policy.role(newRole) else {
                throw VaultError.invalidInput("role \(PolicyLoader.shown(newRole)) is not defined in the policy in force (roles: \(policy.roles.keys.sorted().joined(separator: ", ")))")
            }
            if name == principal && !found.isKeyCustodian {
                throw VaultError.invalidInput("role \(newRole) does not allow principals.manage; a key custodian cannot take it from itself (another custodian can)")
            }
            rolePolicy = found
        }
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: keyring)
        let newRolePolicy = rolePolicy
        let update = try await perform(AccessRequest(.principalsManage)) { [vaultIDBytes, policy] tx, note in
            note.target = "principal:\(name)"
            var record = try tx.requirePrincipal(named: name)
            guard !record.disabled else { throw VaultError.conflict("principal \(name) is disabled; a disabled principal stays disabled (add a new one)") }
            try record.verifyCertificate(vaultID: vaultIDBytes, rootPublicKey: provisioner.root.publicKey)
            // Never re-issue for a record the log contradicts (put back from an older copy), nor over a log with entries deleted.
            try AuditFacts.requireContiguous(tx)
            try AuditFacts.checkPrincipal(record, in: tx, vaultID: vaultIDBytes, rootPublicKey: provisioner.root.publicKey)
            var changed = record.attributes
            for key in removing {
                guard changed.removeValue(forKey: key) != nil else {
                    throw VaultError.invalidInput("principal \(name) has no attribute \(PolicyLoader.shown(key)) (it has: \(record.attributes.keys.sorted().joined(separator: ", ")))")
                }
            }
            changed.merge(attributes) { _, new in new }
            try PrincipalRecord.validateAttributes(changed)
            let before = (role: record.role, attributes: record.attributes)
            let role = newRolePolicy ?? policy.role(record.role)
            guard let role else { throw VaultError.integrity("principal \(name) has role \(record.role), which the policy in force does not define") }
            // Field and purpose: a role that keeps a field's mask key but loses its plain key lost a key.
            let held = Set(try tx.grants(of: record).map { "\($0.scope.field)\u{0}\($0.scope.purpose.rawValue)" })
            record.role = role.name
            record.attributes = changed
            try record.certify(vaultID: vaultIDBytes, root: provisioner.root)
            try tx.updatePrincipalIdentity(id: record.id ?? 0, role: record.role, attributes: record.attributes,
                                                              certificate: record.certificate)
            let sessions = try WriteSessions.countersign(of: record, fields: { role.grant(for: $0).write != true },
                                                         vaultID: vaultIDBytes, root: provisioner.root, in: tx)
            let change = try provisioner.provision(record, role: role, checkedAgainstLog: true, in: tx)
            let now = Set(try tx.grants(of: record).map { "\($0.scope.field)\u{0}\($0.scope.purpose.rawValue)" })
            let lost = Set(held.subtracting(now).compactMap { $0.split(separator: "\u{0}").first.map(String.init) })
                .filter { $0 != KeyScope.vaultWide }.sorted()
            var what: [String] = []
            func shown(_ attributes: [String: String]) -> String {
                attributes.isEmpty ? "none" : attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            }
            if before.role != record.role { what.append("role \(before.role) → \(record.role)") }
            if before.attributes != record.attributes { what.append("attributes \(shown(before.attributes)) → \(shown(record.attributes))") }
            // The identity digest lets every later open check that the row was not put back (AuditFacts.checkPrincipal).
            note.detail = AuditFacts.updatedDetail + "\(what.isEmpty ? "no change" : what.joined(separator: "; ")), +\(change.added)/-\(change.removed) keys, "
                + "\(sessions) write sessions countersigned; \(AuditFacts.identityMarker)\(try AuditFacts.identityDigest(role: record.role, attributes: record.attributes))"
            return PrincipalUpdate(name: name, role: record.role, previousRole: before.role, attributes: record.attributes,
                                   keysAdded: change.added, keysRemoved: change.removed, fieldsLost: lost, rotated: [])
        }
        guard rotatingLostKeys, !update.fieldsLost.isEmpty else { return update }
        var rotated = update
        rotated.rotated = try await rotateKeys(fields: update.fieldsLost, batchSize: batchSize, progress: progress).fields
        return rotated
    }

    /// Replaces the policy in force and re-provisions every principal's keyring to match it, in one
    /// transaction: either all of it applies or none does.
    ///
    /// - Returns: The keys added and removed per principal.
    /// - Throws: ``VaultError`` `.invalidInput` when a principal's role is missing from the new
    ///   policy or the applying principal's role would stop being a key custodian.
    func applyPolicy(_ newPolicy: Policy) async throws -> [KeyringChange] {
        try await requireAllowed(AccessRequest(.principalsManage))
        guard newPolicy.role(role)?.isKeyCustodian == true else {
            throw VaultError.invalidInput("the new policy must keep role \(role) (yours) allowed principals.manage, or no one could apply another")
        }
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: keyring)
        let signature = try VaultMeta.signPolicy(newPolicy.source, vaultID: vaultIDBytes, root: provisioner.root)
        return try await perform(AccessRequest(.principalsManage)) { [vaultIDBytes] tx, note in
            note.target = "policy"
            let principals = try tx.principals()
            let orphans = principals.filter { !$0.disabled && newPolicy.role($0.role) == nil }
            guard orphans.isEmpty else {
                throw VaultError.invalidInput("the new policy has no role for principal(s) \(orphans.map { "\($0.name) (\($0.role))" }.joined(separator: ", ")); disable them or keep their roles")
            }
            try tx.replaceMeta(name: "policy", value: Array(newPolicy.source.utf8))
            try tx.replaceMeta(name: "policy_signature", value: signature)
            try VaultMeta.recordPolicy(newPolicy.source, signature: signature, in: tx)
            // Values written through sessions whose writer's role loses its write grant stay readable.
            var countersigned = 0
            for principal in principals where !principal.disabled {
                let role = newPolicy.role(principal.role)
                countersigned += try WriteSessions.countersign(of: principal, fields: { role?.grant(for: $0).write != true },
                                                               vaultID: vaultIDBytes, root: provisioner.root, in: tx)
            }
            let changes = try principals.map { try provisioner.provision($0, role: newPolicy.role($0.role), in: tx) }
            note.detail = "\(AuditFacts.policyMarker)\(AuditChain.policyHash(newPolicy.source))): \(countersigned) write sessions countersigned; " + changes.map { "\($0.principal) +\($0.added)/-\($0.removed)" }.joined(separator: ", ")
            return changes
        }
    }
}

extension CustomerVault {
    /// Parses `yaml` against the vault's schema, then applies it (see ``applyPolicy(_:)``).
    func applyPolicy(yaml: String, fileName: String) async throws -> [KeyringChange] {
        try await applyPolicy(Policy.load(yaml: yaml, schema: schema, fileName: fileName))
    }
}
