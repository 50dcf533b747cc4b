package import VaultCrypto

/// The keys one unlocked principal holds, in memory only. Immutable once built.
package struct Keyring: Sendable {
    private let keys: [KeyScope: SecretBytes]
    /// Every key the vault has (granted to this principal or not), to tell "not yours" from "forged".
    package let existingScopes: Set<KeyScope>
    /// The newest version of each (field, purpose) this principal holds, with its key: one hash
    /// lookup per sealed value (an import seals about ten values a record).
    private let current: [Slot: (version: UInt32, key: SecretBytes)]

    private struct Slot: Hashable {
        var field: String
        var purpose: KeyPurpose
    }

    package init(keys: [KeyScope: SecretBytes], existingScopes: Set<KeyScope>) {
        self.keys = keys
        self.existingScopes = existingScopes.union(keys.keys)
        var current: [Slot: (version: UInt32, key: SecretBytes)] = [:]
        for (scope, key) in keys {
            let slot = Slot(field: scope.field, purpose: scope.purpose)
            if (current[slot]?.version ?? 0) <= scope.version { current[slot] = (scope.version, key) }
        }
        self.current = current
    }

    package func key(_ scope: KeyScope) -> SecretBytes? { keys[scope] }

    /// The current key for writing, with its version.
    package func currentKey(field: String, purpose: KeyPurpose) -> (key: SecretBytes, version: UInt32)? {
        guard let (version, key) = current[Slot(field: field, purpose: purpose)] else { return nil }
        return (key, version)
    }

    /// Every version of a (field, purpose) held, newest first (searches consult all of them).
    package func allVersions(field: String, purpose: KeyPurpose) -> [(key: SecretBytes, version: UInt32)] {
        keys.filter { $0.key.field == field && $0.key.purpose == purpose }
            .map { ($0.value, $0.key.version) }
            .sorted { $0.version > $1.version }
    }

    package var scopes: [KeyScope] { Array(keys.keys) }
}
