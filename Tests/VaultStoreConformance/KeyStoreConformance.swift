import VaultCore
import VaultCrypto
import VaultStore

/// Principals, their key chains, data keys and grants as a store keeps them: every field comes
/// back as written, updates change exactly what they name, retiring a key takes its grants.
enum KeyStoreConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "keys: principals come back exactly as stored, by name, by id and all by name", run: principals),
        .init(name: "keys: a principal name already held is refused", run: duplicateName),
        .init(name: "keys: disabling, changing identity and changing credential store exactly those fields", run: principalUpdates),
        .init(name: "keys: a principal's standing follows its row", run: standing),
        .init(name: "keys: data keys and their tags come back by id; the epoch changes when one is added or retired", run: dataKeys),
        .init(name: "keys: grants are inserted, counted, resealed and deleted; a retired key's grants are gone", run: grants),
        .init(name: "keys: a write transaction that fails leaves no principal, key or grant", run: atomicity),
    ]

    static func bytes(_ seed: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((seed &* 31 &+ $0) & 0xff) } }

    static func principal(_ name: String, seed: Int, role: String = "support", passphrase: Bool = true) -> PrincipalRecord {
        let first = PrincipalKey(version: 1, boxPublicKey: bytes(seed, 32), signPublicKey: bytes(seed + 1, 32), fromSeq: 1, endorsement: nil)
        return PrincipalRecord(
            id: nil, name: name, role: role, attributes: seed % 2 == 0 ? [:] : ["regions": "EU,UK", "team": "Zoë's"],
            boxPublicKey: first.boxPublicKey, signPublicKey: first.signPublicKey,
            parameters: CredentialParameters(kind: passphrase ? .passphrase : .keyFile, salt: bytes(seed + 2, 16),
                                             argon2: passphrase ? .interactive : nil),
            credentialCheck: bytes(seed + 3, 32), wrappedSecrets: bytes(seed + 4, 120), credentialVersion: 1, disabled: false,
            certificate: bytes(seed + 5, 64), keys: [first])
    }

    /// `record` as the store hands it back: with its id and the key version its row names.
    static func stored(_ record: PrincipalRecord, id: Int64) -> PrincipalRecord {
        var record = record
        record.id = id
        record.storedKeyVersion = Int64(record.keyVersion)
        return record
    }

    static func principals(_ store: any VaultStore) async throws {
        let records = [principal("zed", seed: 1), principal("ada", seed: 2, role: "admin", passphrase: false), principal("mia.k-9_x", seed: 3)]
        let ids = try await store.write { tx in try records.map { try tx.insertPrincipal($0) } }
        try require(Set(ids).count == 3, "ids \(ids) are not distinct")
        let expected = zip(records, ids).map { stored($0, id: $1) }
        let (byName, byID, all, missing, missingID) = try await store.read { tx in
            (try records.map { try tx.principal(named: $0.name) }, try ids.map { try tx.principal(id: $0) }, try tx.principals(),
             try tx.principal(named: "nobody"), try tx.principal(id: (ids.max() ?? 0) + 100))
        }
        try requireEqual(byName, expected.map { Optional($0) }, "principals by name")
        try requireEqual(byID, expected.map { Optional($0) }, "principals by id")
        try requireEqual(all.map(\.name), ["ada", "mia.k-9_x", "zed"], "every principal, by name")
        try requireEqual(all, expected.sorted { $0.name < $1.name }, "every principal")
        try require(missing == nil && missingID == nil, "a principal that does not exist was found")
    }

    static func duplicateName(_ store: any VaultStore) async throws {
        _ = try await store.write { tx in try tx.insertPrincipal(principal("ada", seed: 1)) }
        var refused = false
        do { _ = try await store.write { tx in try tx.insertPrincipal(principal("ada", seed: 7)) } } catch { refused = true }
        try require(refused, "a second principal named ada was stored")
        let all = try await store.read { tx in try tx.principals() }
        try requireEqual(all.map(\.credentialCheck), [bytes(4, 32)], "the first ada is kept unchanged")
    }

    static func principalUpdates(_ store: any VaultStore) async throws {
        let (bob, carol) = try await store.write { tx in (try tx.insertPrincipal(principal("bob", seed: 1)), try tx.insertPrincipal(principal("carol", seed: 2))) }
        var expectedBob = stored(principal("bob", seed: 1), id: bob)
        let expectedCarol = stored(principal("carol", seed: 2), id: carol)
        try await store.write { tx in
            try tx.updatePrincipalDisabled(id: bob, disabledAtSeq: 42, certificate: bytes(9, 64))
            try tx.updatePrincipalIdentity(id: bob, role: "marketing", attributes: ["regions": "US"], certificate: bytes(10, 64))
        }
        expectedBob.disabled = true
        expectedBob.disabledAtSeq = 42
        expectedBob.role = "marketing"
        expectedBob.attributes = ["regions": "US"]
        expectedBob.certificate = bytes(10, 64)
        try requireEqual(try await store.read { tx in try tx.principal(id: bob) }, Optional(expectedBob), "bob after disable and identity change")
        // A credential change: new parameters, check, wrapped secrets, current keys, and a key version.
        var changed = expectedBob
        let second = PrincipalKey(version: 2, boxPublicKey: bytes(20, 32), signPublicKey: bytes(21, 32), fromSeq: 50, endorsement: bytes(22, 64))
        changed.parameters = CredentialParameters(kind: .keyFile, salt: bytes(23, 16), argon2: nil)
        changed.credentialCheck = bytes(24, 32)
        changed.wrappedSecrets = bytes(25, 150)
        changed.credentialVersion = 2
        changed.boxPublicKey = second.boxPublicKey
        changed.signPublicKey = second.signPublicKey
        changed.keys.append(second)
        let update = changed
        try await store.write { tx in
            try tx.insertPrincipalKey(second, principalID: bob)
            try tx.updatePrincipalCredential(update)
        }
        changed.storedKeyVersion = 2
        try requireEqual(try await store.read { tx in try tx.principal(id: bob) }, Optional(changed), "bob after a credential change")
        try requireEqual(try await store.read { tx in try tx.principal(id: carol) }, Optional(expectedCarol), "carol, untouched")
    }

    static func standing(_ store: any VaultStore) async throws {
        let id = try await store.write { tx in try tx.insertPrincipal(principal("dora", seed: 3)) }
        try requireEqual(try await store.read { tx in try tx.principalStanding(named: "dora") },
                         Optional(PrincipalStanding(id: id, enabled: true, role: "support", attributes: ["regions": "EU,UK", "team": "Zoë's"])), "standing")
        try await store.write { tx in
            try tx.updatePrincipalIdentity(id: id, role: "analyst", attributes: [:], certificate: nil)
            try tx.updatePrincipalDisabled(id: id, disabledAtSeq: 7, certificate: nil)
        }
        try requireEqual(try await store.read { tx in try tx.principalStanding(named: "dora") },
                         Optional(PrincipalStanding(id: id, enabled: false, role: "analyst", attributes: [:])), "standing after changes")
        try requireEqual(try await store.read { tx in try tx.principalStanding(named: "nobody") }, nil, "standing of nobody")
    }

    static let scopes = [KeyScope(field: "customers.email", purpose: .seal, version: 1), KeyScope(field: "customers.email", purpose: .index, version: 1),
                         KeyScope(field: "customers.address", purpose: .mask, version: 2), KeyScope(field: "_vault", purpose: .audit, version: 1)]

    static func dataKeys(_ store: any VaultStore) async throws {
        let empty = try await store.read { tx in try tx.dataKeyEpoch() }
        let ids = try await store.write { tx in
            try scopes.enumerated().map { index, scope in
                let id = try tx.insertDataKey(scope: scope, publicKey: index % 2 == 0 ? bytes(index, 32) : nil, createdAt: "2026-12-01T00:00:00Z")
                if index != 3 { try tx.setDataKeyTag(id: id, tag: bytes(100 + index, 32)) }
                return id
            }
        }
        let (keys, epoch) = try await store.read { tx in (try tx.dataKeys(), try tx.dataKeyEpoch()) }
        try requireEqual(keys, scopes.enumerated().map { index, scope in
            StoredDataKey(id: ids[index], scope: scope, publicKey: index % 2 == 0 ? bytes(index, 32) : nil, retiredAt: nil,
                          tag: index == 3 ? nil : bytes(100 + index, 32))
        }, "data keys")
        try require(epoch != empty, "the epoch did not change when keys were added")
        try await store.write { tx in try tx.retireDataKey(id: ids[0], at: "2026-12-02T00:00:00Z", tag: bytes(200, 32)) }
        let (after, retiredEpoch) = try await store.read { tx in (try tx.dataKeys(), try tx.dataKeyEpoch()) }
        try requireEqual(after[0], StoredDataKey(id: ids[0], scope: scopes[0], publicKey: nil, retiredAt: "2026-12-02T00:00:00Z", tag: bytes(200, 32)),
                         "the retired key")
        try requireEqual(Array(after.dropFirst()), Array(keys.dropFirst()), "the other keys")
        try require(retiredEpoch != epoch, "the epoch did not change when a key was retired")
    }

    static func grants(_ store: any VaultStore) async throws {
        let (ada, bob, keyIDs) = try await store.write { tx in
            (try tx.insertPrincipal(principal("ada", seed: 1)), try tx.insertPrincipal(principal("bob", seed: 2)),
             try scopes.map { try tx.insertDataKey(scope: $0, publicKey: nil, createdAt: "2026-12-01T00:00:00Z") })
        }
        @Sendable func grant(_ index: Int, _ seed: Int) -> KeyGrant { KeyGrant(scope: scopes[index], sealedKey: bytes(seed, 80), signature: bytes(seed + 1, 64)) }
        try await store.write { tx in
            for index in 0..<4 { try tx.insertGrant(grant(index, index), principalID: ada, keyID: keyIDs[index]) }
            try tx.insertGrant(grant(0, 50), principalID: bob, keyID: keyIDs[0])
        }
        let adaGrants = try await store.read { tx in try tx.grants(principalID: ada, includingRetired: false) }
        try requireEqual(Set(adaGrants.map(\.keyID)), Set(keyIDs), "ada's grants")
        for stored in adaGrants {
            let index = try keyIDs.firstIndex(of: stored.keyID).map { $0 } ?? { throw ConformanceFailure("unknown key id") }()
            try requireEqual(stored.grant, grant(index, index), "ada's grant of \(scopes[index])")
        }
        try await store.write { tx in
            try tx.replaceGrantSealedKey(principalID: ada, keyID: keyIDs[1], sealedKey: bytes(77, 80))
            try tx.deleteGrant(principalID: ada, keyID: keyIDs[2])
            try tx.retireDataKey(id: keyIDs[0], at: "2026-12-02T00:00:00Z", tag: bytes(9, 32))
        }
        let (live, all, count, bobLive, bobCount) = try await store.read { tx in
            (try tx.grants(principalID: ada, includingRetired: false), try tx.grants(principalID: ada, includingRetired: true),
             try tx.grantCount(principalID: ada), try tx.grants(principalID: bob, includingRetired: true), try tx.grantCount(principalID: bob))
        }
        try requireEqual(Set(live.map(\.keyID)), [keyIDs[1], keyIDs[3]], "ada's live grants (a retired key's grant is deleted)")
        try requireEqual(Set(all.map(\.keyID)), [keyIDs[1], keyIDs[3]], "ada's grants with retired keys")
        try requireEqual(count, 2, "ada's grant count")
        try requireEqual(live.first { $0.keyID == keyIDs[1] }?.grant.sealedKey, bytes(77, 80), "the resealed grant")
        try requireEqual(live.first { $0.keyID == keyIDs[1] }?.grant.signature, bytes(2, 64), "the resealed grant keeps its signature")
        try require(bobLive.isEmpty && bobCount == 0, "bob's grant of the retired key is still there")
    }

    struct Planned: Error {}

    static func atomicity(_ store: any VaultStore) async throws {
        do {
            try await store.write { tx in
                let id = try tx.insertPrincipal(principal("ada", seed: 1))
                let key = try tx.insertDataKey(scope: scopes[0], publicKey: nil, createdAt: "2026-12-01T00:00:00Z")
                try tx.insertGrant(KeyGrant(scope: scopes[0], sealedKey: bytes(1, 80), signature: bytes(2, 64)), principalID: id, keyID: key)
                throw Planned()
            }
        } catch is Planned {}
        let (principals, keys) = try await store.read { tx in (try tx.principals(), try tx.dataKeys()) }
        try require(principals.isEmpty && keys.isEmpty, "a failed transaction left \(principals.count) principals and \(keys.count) keys")
    }
}
