import Foundation
import VaultCrypto
import VaultCore
import VaultStore

/// What the vault takes from its own access log to refuse a rollback of single records the log
/// contradicts: a principal put back to before its disable or credential change, a policy put back
/// to an older one. Each entry consulted is checked on its own (its hash, its signer's certificate
/// and key chain, its signature); deleting it from the log breaks the chain, which `audit verify`
/// reports and key custodians' grant-making operations check (``requireContiguous(_:)``).
enum AuditFacts {
    /// The detail prefixes the vault writes and reads back.
    static let disabledDetail = "disabled"
    static let keyVersionMarker = "key version "
    static let policyMarker = "policy applied (policy "
    static let updatedDetail = "updated: "
    static let identityMarker = "identity "

    /// A digest of what `principal update` changes (role and attributes), kept in its access-log
    /// entry: a principal row put back from an older copy, certificate and all, no longer matches it.
    static func identityDigest(role: String, attributes: [String: String]) throws -> String {
        var writer = ByteWriter(domain: "cvault.principal-identity.v1")
        writer.append(role)
        writer.append(FlatJSON.encode(attributes))
        return Hex.encode(try BLAKE2b.hash(writer.bytes, outputLength: 16))
    }

    struct Entry {
        var seq: Int64
        var principal: String
        var detail: String
        var policyHash: String
    }

    /// The newest allowed entry of `action` by `principal` (any when nil) naming `target` whose
    /// detail starts with `prefix`, authenticated; nil when there is none.
    static func newest(_ tx: some StoreReading, action: VaultAction, principal: String? = nil, target: String? = nil, prefix: String,
                       vaultID: [UInt8], rootPublicKey: [UInt8]) throws -> Entry? {
        guard let stored = try tx.newestAllowedAuditEntry(action: action.rawValue, principal: principal, target: target, detailPrefix: prefix) else {
            return nil
        }
        let seq = stored.seq, signer = stored.entry.principal, entry = stored.entry
        let bad = VaultError.integrity("audit log entry \(seq): does not verify (altered in the file)", remedy: .verifyAuditLog)
        guard let record = try? tx.principal(named: signer) else { throw bad }
        try record.verifyCertificate(vaultID: vaultID, rootPublicKey: rootPublicKey, legacy: true)
        let key = record.signingKey(atSeq: seq)
        let hash = try AuditChain.entryHash(format: stored.format, seq: seq, entry: entry, signerPublicKey: key, previousHash: stored.previousHash)
        guard constantTimeEquals(hash, stored.hash), Ed25519.isValid(signature: stored.signature, for: hash, publicKey: key) else { throw bad }
        return Entry(seq: seq, principal: signer, detail: entry.detail, policyHash: entry.policyHash)
    }

    /// Refuses a principal record that the log contradicts: one the log says was disabled but that
    /// is enabled in the file, or one whose key chain is shorter than the key version its newest
    /// credential change made (both: its record put back from an older copy).
    static func checkPrincipal(_ record: PrincipalRecord, in tx: some StoreReading, vaultID: [UInt8], rootPublicKey: [UInt8]) throws {
        if !record.disabled, let disabled = try newest(tx, action: .principalsManage, target: "principal:\(record.name)", prefix: disabledDetail,
                                                        vaultID: vaultID, rootPublicKey: rootPublicKey) {
            throw VaultError.integrity("principal \(record.name) was disabled at access-log entry \(disabled.seq), but its record in the file is "
                + "enabled (put back from an older copy?)")
        }
        if let changed = try newest(tx, action: .credentialChange, principal: record.name, prefix: "credential changed",
                                    vaultID: vaultID, rootPublicKey: rootPublicKey),
           let marker = changed.detail.range(of: keyVersionMarker),
           let version = UInt32(changed.detail[marker.upperBound...].prefix { $0.isNumber }), record.keyVersion < version {
            throw VaultError.integrity("principal \(record.name) changed its credential to key version \(version) at access-log entry "
                + "\(changed.seq), but its record in the file is at version \(record.keyVersion) (put back from an older copy?)")
        }
        if let updated = try newest(tx, action: .principalsManage, target: "principal:\(record.name)", prefix: updatedDetail,
                                    vaultID: vaultID, rootPublicKey: rootPublicKey),
           let marker = updated.detail.range(of: identityMarker),
           updated.detail[marker.upperBound...].prefix(32) != Substring(try identityDigest(role: record.role, attributes: record.attributes)) {
            throw VaultError.integrity("principal \(record.name) was updated at access-log entry \(updated.seq), but its role or attributes in the file "
                + "are not the ones set then (put back from an older copy?)")
        }
    }

    /// Refuses a policy in force that is not the one the newest `policy apply` entry (or, with
    /// none, the vault's creation) put in force: an older signed policy copied back in the file.
    /// Entries written before policy applies named their policy say nothing, so nothing is checked.
    static func checkPolicy(_ policy: Policy, in tx: some StoreReading, vaultID: [UInt8], rootPublicKey: [UInt8]) throws {
        let hash = AuditChain.policyHash(policy.source)
        let expected: (seq: Int64, hash: Substring)?
        if let applied = try newest(tx, action: .principalsManage, target: "policy", prefix: "policy applied", vaultID: vaultID,
                                    rootPublicKey: rootPublicKey) {
            guard applied.detail.hasPrefix(policyMarker) else { return }
            expected = (applied.seq, applied.detail.dropFirst(policyMarker.count).prefix { $0 != ")" })
        } else if let created = try newest(tx, action: .vaultInit, prefix: "created", vaultID: vaultID, rootPublicKey: rootPublicKey),
                  created.detail.contains(CustomerVault.integrityMarker) {
            expected = (created.seq, Substring(created.policyHash))
        } else {
            expected = nil
        }
        if let expected, expected.hash != hash {
            throw VaultError.integrity("the policy in force is not the one put in force at access-log entry \(expected.seq) (an older policy put back in the file?)")
        }
    }

    /// Refuses a log with a gap in its sequence numbers: an entry deleted (say, the one that
    /// disabled a principal). Key custodians check it before they grant keys.
    static func requireContiguous(_ log: some AuditLogReading) throws {
        let (count, top) = try log.auditExtent()
        guard count == top else {
            throw VaultError.integrity("the access log has \(count) entries up to entry \(top): entries were deleted", remedy: .verifyAuditLog)
        }
    }
}
