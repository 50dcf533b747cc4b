
/// What a key is for. Each personal field has its own keys of each purpose, each with versions.
package enum KeyPurpose: String, Sendable, CaseIterable {
    /// Seals the full value of a personal field.
    case seal
    /// Seals the masked view of a field; masked roles hold this key only.
    case mask
    /// Keys the blind index of a searchable field.
    case index
    /// The vault's Ed25519 root signing seed: signs key grants (key custodians only).
    case root
    /// The vault's backup key: its X25519 key pair (derived like a write key pair) opens backups.
    /// Key custodians hold it; a recovery key file is this key.
    case backup
    /// Keys the digests of search terms in the access log (searchers and auditors).
    case audit
    /// Keys the integrity tags of the rows the vault trusts (``RecordIntegrity``): held by every
    /// role that reads or writes records.
    case record
    /// The X25519 public key derived from a field's seal key: write-only roles seal session keys to it.
    case sealPublic = "seal_public"
    /// The same for the mask key, so a write-only role can also write the masked view.
    case maskPublic = "mask_public"
    /// The backup key's X25519 public key: enough to create a backup, not to open one.
    case backupPublic = "backup_public"

    /// For a public purpose, the private purpose it is derived from.
    package var privateTwin: KeyPurpose? {
        switch self {
        case .sealPublic: .seal
        case .maskPublic: .mask
        case .backupPublic: .backup
        default: nil
        }
    }

    /// For a private field purpose, its public counterpart.
    package var publicTwin: KeyPurpose? {
        switch self {
        case .seal: .sealPublic
        case .mask: .maskPublic
        case .backup: .backupPublic
        default: nil
        }
    }
}

/// Names one key: a field (`customers.email`) or `vault` for vault-wide keys, a purpose and a version.
package struct KeyScope: Sendable, Hashable, CustomStringConvertible {
    package static let vaultWide = "vault"

    package var field: String
    package var purpose: KeyPurpose
    package var version: UInt32

    package init(field: String, purpose: KeyPurpose, version: UInt32) {
        self.field = field
        self.purpose = purpose
        self.version = version
    }

    package var description: String { "\(field)/\(purpose.rawValue)/v\(version)" }

    package static func fieldName(_ entity: Entity, _ field: String) -> String { "\(entity.rawValue).\(field)" }
}
