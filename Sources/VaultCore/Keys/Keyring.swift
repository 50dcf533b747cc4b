package import VaultCrypto

/// The keys one unlocked principal holds, in memory only. Immutable once built.
package struct Keyring: Sendable {
    private let keys: [KeyScope: SecretBytes]
    /// Every key the vault has (granted to this principal or not), to tell "not yours" from "forged".
    package let existingScopes: Set<KeyScope>
    /// The newest version of each (field, purpose) this principal holds.
    private let current: [String: UInt32]

    package init(keys: [KeyScope: SecretBytes], existingScopes: Set<KeyScope>) {
        self.keys = keys
        self.existingScopes = existingScopes.union(keys.keys)
        var current: [String: UInt32] = [:]
        for scope in keys.keys {
            let name = Self.slot(scope.field, scope.purpose)
            current[name] = max(current[name] ?? 0, scope.version)
        }
        self.current = current
    }

    private static func slot(_ field: String, _ purpose: KeyPurpose) -> String { "\(field)/\(purpose.rawValue)" }

    package func key(_ scope: KeyScope) -> SecretBytes? { keys[scope] }

    /// The current key for writing, with its version.
    package func currentKey(field: String, purpose: KeyPurpose) -> (key: SecretBytes, version: UInt32)? {
        guard let version = current[Self.slot(field, purpose)], let key = keys[KeyScope(field: field, purpose: purpose, version: version)] else {
            return nil
        }
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
