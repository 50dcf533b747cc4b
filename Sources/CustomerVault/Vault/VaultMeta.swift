import Foundation
import VaultCrypto
import VaultCore
import VaultStore

/// The vault-wide facts stored in `vault_meta`, each one the vault trusts authenticated by the
/// root key: the schema (`schema_signature`) and the policy (`policy_signature`). The root public
/// key itself is checked by `open` against the one pinned in the opener's secrets.
struct VaultMeta: Sendable {
    var vaultID: [UInt8]
    var schema: Schema
    var rootSigningPublicKey: [UInt8]
    /// Verified against the root key stored beside it; `open` then checks that key against the pin.
    var policy: Policy
    /// False for a vault made before record integrity tags (issue #17) until a key custodian's
    /// first open upgrades it: its schema is not yet signed and its rows carry no tags.
    var isCurrent: Bool

    static func policyMessage(_ text: String, vaultID: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.policy.v1")
        writer.append(vaultID)
        writer.append(text)
        return writer.bytes
    }

    static func signPolicy(_ text: String, vaultID: [UInt8], root: Ed25519.KeyPair) throws -> [UInt8] {
        try Ed25519.sign(policyMessage(text, vaultID: vaultID), with: root)
    }

    /// What the root key signs about the schema. Its presence also marks a vault whose rows are
    /// tagged: the signature is written last by the upgrade of an older vault.
    static func schemaMessage(_ text: String, vaultID: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.schema.v1")
        writer.append(vaultID)
        writer.append(text)
        return writer.bytes
    }

    static func signSchema(_ text: String, vaultID: [UInt8], root: Ed25519.KeyPair) throws -> [UInt8] {
        try Ed25519.sign(schemaMessage(text, vaultID: vaultID), with: root)
    }

    static func load(_ tx: some VaultMetaReading) throws -> VaultMeta {
        let values = try tx.metaValues()
        guard let format = values["format"].map({ String(decoding: $0, as: UTF8.self) }) else {
            throw VaultError.integrity("the vault has no format marker")
        }
        guard format == "1" else {
            throw VaultError(.unsupported, "vault format \(format) is newer than this cvault supports (1)")
        }
        guard let id = values["vault_id"], id.count == 16,
              let schemaText = values["schema"].flatMap({ String(validating: $0, as: UTF8.self) }),
              let root = values["root_sign_public_key"], root.count == 32 else {
            throw VaultError.integrity("the vault's metadata is incomplete or corrupt")
        }
        let vaultID = id, rootKey = root
        var isCurrent = false
        if let signature = values["schema_signature"] {
            guard Ed25519.isValid(signature: signature, for: schemaMessage(schemaText, vaultID: vaultID), publicKey: rootKey) else {
                throw VaultError.integrity("the vault's schema does not match its signature (altered in the file)")
            }
            isCurrent = true
        }
        let schema: Schema
        do {
            schema = try Schema.load(yaml: schemaText, fileName: "stored schema", checkingPatterns: !isCurrent)
        } catch {
            throw VaultError.integrity("the schema stored in the vault does not parse")
        }
        guard let policyText = values["policy"].flatMap({ String(validating: $0, as: UTF8.self) }), let signature = values["policy_signature"],
              Ed25519.isValid(signature: signature, for: policyMessage(policyText, vaultID: vaultID), publicKey: rootKey) else {
            throw VaultError.integrity("the vault's policy is missing or its signature does not verify (altered in the file?)")
        }
        let policy: Policy
        do {
            policy = try Policy.load(yaml: policyText, schema: schema, fileName: "stored policy")
        } catch {
            throw VaultError.integrity("the policy stored in the vault does not parse against its schema")
        }
        return VaultMeta(vaultID: vaultID, schema: schema, rootSigningPublicKey: rootKey, policy: policy, isCurrent: isCurrent)
    }

    /// Keeps a root-signed policy in the history by its hash (access-log entries and write sessions
    /// name the policy in force by it).
    static func recordPolicy(_ text: String, signature: [UInt8], in tx: some VaultMetaWriting) throws {
        try tx.recordPolicy(StoredPolicy(hash: AuditChain.policyHash(text), source: text, signature: signature), storedAt: Timestamps.now())
    }

    /// The policy with `hash` from the history, its root signature verified against `rootPublicKey`.
    static func historicPolicy(_ hash: String, schema: Schema, vaultID: [UInt8], rootPublicKey: [UInt8], in tx: some VaultMetaReading) throws -> Policy {
        guard let stored = try tx.historicPolicy(hash: hash) else {
            throw VaultError.integrity("policy \(hash) is not in the vault's policy history (removed in the file?)")
        }
        let text = stored.source
        guard AuditChain.policyHash(text) == hash,
              Ed25519.isValid(signature: stored.signature, for: policyMessage(text, vaultID: vaultID), publicKey: rootPublicKey) else {
            throw VaultError.integrity("policy \(hash) in the history does not match its hash or root signature (altered in the file)")
        }
        do {
            return try Policy.load(yaml: text, schema: schema, fileName: "policy \(hash)")
        } catch {
            throw VaultError.integrity("policy \(hash) in the history does not parse against the vault's schema")
        }
    }
}
