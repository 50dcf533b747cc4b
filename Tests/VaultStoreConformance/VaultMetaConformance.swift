import VaultCore
import VaultStore

/// Vault-wide facts and the policy history: stored once, replaced only when held, kept byte for byte.
enum VaultMetaConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "meta: facts come back byte for byte; a fact is inserted once and replaced only when held", run: facts),
        .init(name: "meta: the policy history keeps the first policy of a hash and lists every hash", run: history),
    ]

    static func facts(_ store: any VaultStore) async throws {
        let facts: [String: [UInt8]] = ["vault_id": Array(0..<16), "format": Array("1".utf8), "schema": Array("fields:\n  - name: é\n".utf8),
                                        "empty": [], "binary": [0, 255, 0, 10, 13]]
        try await store.write { tx in for (name, value) in facts.sorted(by: { $0.key < $1.key }) { try tx.insertMeta(name: name, value: value) } }
        try requireEqual(try await store.read { tx in try tx.metaValues() }, facts, "facts")
        var refused = false
        do { try await store.write { tx in try tx.insertMeta(name: "format", value: Array("2".utf8)) } } catch { refused = true }
        try require(refused, "a second format fact was stored")
        try await store.write { tx in try tx.replaceMeta(name: "schema", value: Array("new".utf8)) }
        var expected = facts
        expected["schema"] = Array("new".utf8)
        try requireEqual(try await store.read { tx in try tx.metaValues() }, expected, "facts after replacing the schema")
        refused = false
        do { try await store.write { tx in try tx.replaceMeta(name: "policy", value: [1]) } } catch { refused = true }
        try require(refused, "a fact the vault does not hold was replaced (or silently added)")
        try requireEqual(try await store.read { tx in try tx.metaValues() }, expected, "facts after the refused replacement")
    }

    static func history(_ store: any VaultStore) async throws {
        let first = StoredPolicy(hash: "aa11", source: "roles:\n  support: {}\n", signature: Array(repeating: 1, count: 64))
        let second = StoredPolicy(hash: "bb22", source: "roles: {}\n", signature: Array(repeating: 2, count: 64))
        try await store.write { tx in
            try tx.recordPolicy(first, storedAt: "2026-12-01T00:00:00Z")
            try tx.recordPolicy(second, storedAt: "2026-12-01T00:00:01Z")
            try tx.recordPolicy(StoredPolicy(hash: "aa11", source: "other", signature: [3]), storedAt: "2026-12-02T00:00:00Z")
        }
        let (a, b, none, hashes) = try await store.read { tx in
            (try tx.historicPolicy(hash: "aa11"), try tx.historicPolicy(hash: "bb22"), try tx.historicPolicy(hash: "cc33"), try tx.historicPolicyHashes())
        }
        try requireEqual(a, first, "the first policy of hash aa11")
        try requireEqual(b, second, "policy bb22")
        try requireEqual(none, nil, "a hash never stored")
        try requireEqual(hashes.sorted(), ["aa11", "bb22"], "every hash")
    }
}
