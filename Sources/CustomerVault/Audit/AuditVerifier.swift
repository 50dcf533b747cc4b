import Foundation
import VaultSQLite
import VaultCrypto
import VaultCore
import VaultStore

/// The outcome of checking the whole access log.
public struct AuditVerification: Sendable, Equatable, Codable {
    /// Entries checked.
    public var entries: Int64
    /// The last entry: its sequence number and hash (hex), i.e. the current head.
    public var headSeq: Int64
    public var headHash: String
    /// Set when a checkpoint was given and the log still contains it unchanged.
    public var checkpointMatched: Bool?
}

/// A point in the log to keep outside the vault: `SEQ:HASH`, signed by the principal that took it.
public struct AuditCheckpoint: Sendable, Equatable, Codable, CustomStringConvertible {
    public var vaultID: String
    public var seq: Int64
    public var hash: String
    public var principal: String
    public var at: String
    /// Ed25519 over `("cvault.audit-checkpoint.v1" ‖ vault id ‖ seq ‖ hash ‖ principal ‖ at)`.
    public var signature: String

    /// The short form `SEQ:HASH` a checkpoint is given in.
    public var description: String { "\(seq):\(hash)" }

    static func message(vaultID: String, seq: Int64, hash: String, principal: String, at: String) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.audit-checkpoint.v1")
        writer.append(vaultID)
        writer.append(seq)
        writer.append(hash)
        writer.append(principal)
        writer.append(at)
        return writer.bytes
    }

    /// Parses `SEQ:HASH`.
    public static func parse(_ text: String) throws -> (seq: Int64, hash: String) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
        guard parts.count == 2, let seq = Int64(parts[0]), seq >= 1, parts[1].count == 64,
              Hex.decode(Array(parts[1].utf8)) != nil else {
            throw VaultError.invalidInput("a checkpoint is SEQ:HASH (a sequence number and 64 hex digits), as the signed head of the log gives it")
        }
        return (seq, parts[1].lowercased())
    }
}

/// Checks the access log with public keys only: sequence numbers without gaps, each entry's hash,
/// the chain of previous hashes from the genesis value, each signature against the acting
/// principal's public key (whose certificate must verify against the vault's root key), and, given
/// a checkpoint, that the entry it names is still there unchanged.
enum AuditVerifier {
    static func verify(_ tx: some StoreReading, meta: VaultMeta, expect checkpoint: (seq: Int64, hash: String)?) throws -> AuditVerification {
        var signers: [String: PrincipalRecord] = [:]
        /// Disables as the log itself records them (so a principal record put back to before its
        /// disable cannot sign unnoticed either).
        var loggedDisables: [String: Int64] = [:]
        /// The key that may sign entry `seq` of principal `name`: the version of its certified key
        /// chain in force at that entry, and none after the entry that disabled it.
        func signingKey(_ name: String, seq: Int64) throws -> [UInt8] {
            let record: PrincipalRecord
            if let known = signers[name] { record = known } else {
                guard let fetched = try? tx.principal(named: name) else {
                    throw VaultError.integrity("audit log entry \(seq): signed by principal \(name), which does not exist")
                }
                do {
                    try fetched.verifyCertificate(vaultID: meta.vaultID, rootPublicKey: meta.rootSigningPublicKey, legacy: !meta.isCurrent)
                } catch {
                    throw VaultError.integrity("audit log entry \(seq): the certificate or key chain of its signer \(name) does not verify")
                }
                signers[name] = fetched
                record = fetched
            }
            if let disabledAt = [record.disabledAtSeq, loggedDisables[name]].compactMap({ $0 }).min(), seq > disabledAt {
                throw VaultError.integrity("audit log entry \(seq): signed by principal \(name), disabled at entry \(disabledAt) (it cannot sign after that)")
            }
            return record.signingKey(atSeq: seq)
        }
        var previous = try AuditChain.genesisHash(vaultID: meta.vaultID)
        var expected: Int64 = 1
        var matched: Bool?
        try tx.forEachAuditEntry(AuditQuery()) { stored in
            let seq = stored.seq, format = stored.format, entry = stored.entry
            guard seq == expected else {
                throw VaultError.integrity("audit log entry \(expected): missing (the next entry is \(seq)); entries were deleted")
            }
            guard format == 1 || format == AuditChain.currentFormat else {
                throw VaultError.integrity("audit log entry \(seq): unknown format \(format) (altered in the file, or written by a newer cvault)")
            }
            guard stored.previousHash == previous else {
                throw VaultError.integrity("audit log entry \(seq): does not chain to entry \(seq - 1) (entries were removed, inserted or reordered)")
            }
            let key = try signingKey(entry.principal, seq: seq)
            let hash = try AuditChain.entryHash(format: format, seq: seq, entry: entry, signerPublicKey: key, previousHash: previous)
            guard stored.hash == hash else {
                throw VaultError.integrity("audit log entry \(seq): its content does not match its hash (the entry was modified)")
            }
            guard Ed25519.isValid(signature: stored.signature, for: hash, publicKey: key) else {
                throw VaultError.integrity("audit log entry \(seq): the signature of \(entry.principal) does not verify")
            }
            if let checkpoint, checkpoint.seq == seq {
                guard Hex.encode(hash) == checkpoint.hash else {
                    throw VaultError.integrity("audit log entry \(seq): differs from the checkpoint (the log was rewritten)")
                }
                matched = true
            }
            if entry.action == VaultAction.principalsManage.rawValue, entry.outcome == .allowed, entry.detail.hasPrefix(AuditFacts.disabledDetail),
               entry.target.hasPrefix("principal:") {
                let name = String(entry.target.dropFirst("principal:".count))
                loggedDisables[name] = loggedDisables[name] ?? seq
            }
            previous = hash
            expected += 1
            return true
        }
        if let checkpoint, matched != true {
            throw VaultError.integrity("audit log entry \(checkpoint.seq): missing; the log ends at entry \(expected - 1) (the tail was cut)")
        }
        return AuditVerification(entries: expected - 1, headSeq: expected - 1, headHash: Hex.encode(previous), checkpointMatched: matched)
    }
}

extension CustomerVault {
    /// Verifies the whole access log with public keys only; needs no credential.
    ///
    /// - Parameter checkpoint: `SEQ:HASH` from an earlier `auditHead()`: the entry must still be
    ///   there unchanged (detects a cut or rewritten tail).
    /// - Throws: ``VaultError`` `.integrity` naming the first bad entry's sequence number.
    public static func verifyAuditLog(at path: String, expect checkpoint: String? = nil) async throws -> AuditVerification {
        let expected = try checkpoint.map(AuditCheckpoint.parse)
        // A copy on read-only media is read as it is there: verification writes nothing.
        let store = try SQLiteStore.openForReading(path: path)
        defer { try? store.close() }
        do {
            return try await store.read { tx in try AuditVerifier.verify(tx, meta: try VaultMeta.load(tx), expect: expected) }
        } catch {
            throw vaultError(from: error)
        }
    }
}
