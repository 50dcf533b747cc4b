import Foundation
import VaultCrypto
import VaultCore
import VaultStore

/// What an erasure removed: counts only.
public struct ErasureCounts: Sendable, Equatable, Codable {
    public var sealedValues = 0
    public var indexEntries = 0
    public var interactions = 0
    /// Transactions removed, or kept pseudonymised (see ``ErasureLedgerEntry/transactions``).
    public var transactions = 0
    public var behaviour = 0
}

/// One erasure, as the ledger keeps it: no personal data, only the id, when, who and what, signed
/// by the principal that made it.
public struct ErasureLedgerEntry: Sendable, Equatable, Codable {
    public var vaultID: String
    public var customer: Int64
    public var erasedAt: String
    public var principal: String
    public var purpose: String?
    /// `kept_pseudonymised` or `removed`.
    public var transactions: String
    public var removed: ErasureCounts
    /// The sequence number of the access-log entry of the erasure.
    public var auditSeq: Int64?
    /// Who signed it: the erasing principal, or a key custodian that attested an entry made before
    /// erasures were signed (an upgraded vault).
    public var signedBy: String?
    /// Ed25519 over ``signedMessage()`` by `signedBy`, hex.
    public var signature: String?
    /// `signedBy`'s certificate and key chain: the entry verifies against the vault's root key
    /// alone, also where the signer is not in the vault it is applied to (an older backup).
    public var signerProof: SignerProof?

    /// What the signer signs: every field but the signature and the proof.
    func signedMessage() -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.erasure.v1")
        writer.append(vaultID)
        writer.append(customer)
        writer.append(erasedAt)
        writer.append(principal)
        writer.append(purpose ?? "")
        writer.append(transactions)
        for count in [removed.sealedValues, removed.indexEntries, removed.interactions, removed.transactions, removed.behaviour] {
            writer.append(Int64(count))
        }
        writer.append(auditSeq ?? 0)
        writer.append(signedBy ?? "")
        return writer.bytes
    }

    /// Signs the entry as `signer`, whose record (with its key chain) proves the key.
    mutating func sign(as signer: PrincipalRecord, with key: Ed25519.KeyPair) throws {
        signedBy = signer.name
        signerProof = SignerProof(signer)
        signature = Hex.encode(try Ed25519.sign(signedMessage(), with: key))
    }

    /// Checks the signature with the signer's key at the entry's access-log position, the signer's
    /// certificate and key chain against `rootPublicKey`, and that the signer is the principal
    /// named or a key custodian under `policy`. `known` is the signer as the vault applying the
    /// entry holds it, if it does (its chain and the proof's must agree).
    func verify(vaultID: [UInt8], rootPublicKey: [UInt8], policy: Policy, known: PrincipalRecord?, place: String) throws {
        guard let signedBy, let signature = signature.flatMap({ Hex.decode(Array($0.utf8)) }), let proof = signerProof, let seq = auditSeq else {
            throw VaultError.integrity("\(place): the erasure of customer \(customer) is not signed (forged, or written before cvault signed erasures)")
        }
        guard self.vaultID == Hex.encode(vaultID) else {
            throw VaultError.integrity("\(place): the erasure of customer \(customer) belongs to vault \(self.vaultID)")
        }
        let claimed = try proof.record(name: signedBy)
        do {
            try claimed.verifyCertificate(vaultID: vaultID, rootPublicKey: rootPublicKey)
        } catch {
            throw VaultError.integrity("\(place): the erasure of customer \(customer) carries a signer proof that does not verify against the vault's root key")
        }
        var chain = claimed.keys
        if let known {
            let shorter = min(known.keys.count, chain.count)
            guard Array(known.keys.prefix(shorter)) == Array(chain.prefix(shorter)) else {
                throw VaultError.integrity("\(place): the erasure of customer \(customer) names keys of \(signedBy) that the vault does not hold")
            }
            if known.keys.count > chain.count { chain = known.keys }
        }
        // The log's first entry is seq 1. (A signer's key is checked for the seq the entry claims;
        // the seq is not matched against a log, which after a restore is another lineage's:
        // SECURITY.md §10, back-dated erasure lines.)
        guard seq >= 1 else {
            throw VaultError.integrity("\(place): the erasure of customer \(customer) claims access-log entry \(seq), which cannot exist")
        }
        var signer = claimed
        signer.keys = chain
        guard Ed25519.isValid(signature: signature, for: signedMessage(), publicKey: signer.signingKey(atSeq: seq)) else {
            throw VaultError.integrity("\(place): the signature of \(signedBy) on the erasure of customer \(customer) does not verify")
        }
        guard signedBy == principal || policy.role(claimed.role)?.isKeyCustodian == true else {
            throw VaultError.integrity("\(place): the erasure of customer \(customer) names principal \(principal) but is signed by \(signedBy)")
        }
    }
}

/// A principal's certificate and key chain, self-contained (see ``ErasureLedgerEntry/signerProof``).
public struct SignerProof: Sendable, Equatable, Codable {
    public struct Key: Sendable, Equatable, Codable {
        public var version: UInt32
        public var boxPublicKey: String
        public var signPublicKey: String
        public var fromSeq: Int64
        public var endorsement: String?
    }

    public var role: String
    public var attributes: [String: String]
    public var disabled: Bool
    public var disabledAtSeq: Int64?
    public var certificate: String
    public var keys: [Key]

    init(_ record: PrincipalRecord) {
        role = record.role
        attributes = record.attributes
        disabled = record.disabled
        disabledAtSeq = record.disabledAtSeq
        certificate = Hex.encode(record.certificate ?? [])
        keys = record.keys.map { Key(version: $0.version, boxPublicKey: Hex.encode($0.boxPublicKey), signPublicKey: Hex.encode($0.signPublicKey),
                                     fromSeq: $0.fromSeq, endorsement: $0.endorsement.map(Hex.encode)) }
    }

    func record(name: String) throws -> PrincipalRecord {
        func bytes(_ hex: String) throws -> [UInt8] {
            guard let value = Hex.decode(Array(hex.utf8)) else { throw VaultError.integrity("a signer proof holds a malformed key") }
            return value
        }
        let chain = try keys.map { PrincipalKey(version: $0.version, boxPublicKey: try bytes($0.boxPublicKey), signPublicKey: try bytes($0.signPublicKey),
                                                 fromSeq: $0.fromSeq, endorsement: try $0.endorsement.map(bytes)) }
        guard let last = chain.last else { throw VaultError.integrity("a signer proof holds no key") }
        return PrincipalRecord(id: nil, name: name, role: role, attributes: attributes, boxPublicKey: last.boxPublicKey, signPublicKey: last.signPublicKey,
                               parameters: CredentialParameters(kind: .keyFile, salt: [], argon2: nil), credentialCheck: [], wrappedSecrets: [],
                               credentialVersion: 1, disabled: disabled, certificate: try bytes(certificate), disabledAtSeq: disabledAtSeq,
                               keys: chain, storedKeyVersion: Int64(last.version))
    }
}

/// An entry read from a ledger, with where it came from (`FILE:LINE`, or the vault's table).
struct LedgerLine: Sendable {
    var entry: ErasureLedgerEntry
    var place: String
}

/// The erasure ledger: a table in the vault (so every later backup carries it) and a JSON Lines
/// sidecar file beside the vault (`VAULT.erasures`), which survives the vault being replaced by an
/// older backup. A restore re-applies every entry of both that the backup lacks, once each entry's
/// signature verifies.
enum ErasureLedger {
    static func sidecar(of vaultPath: String) -> String { vaultPath + ".erasures" }

    static func record(_ entry: ErasureLedgerEntry, in tx: some StoreWriting) throws {
        try tx.insertErasure(try stored(entry))
    }

    /// An entry as the store keeps it.
    static func stored(_ entry: ErasureLedgerEntry) throws -> StoredErasure {
        let proof = try entry.signerProof.map { String(decoding: try JSONEncoder.sorted.encode($0), as: UTF8.self) }
        return StoredErasure(
            customerID: entry.customer, erasedAt: entry.erasedAt, principal: entry.principal, purpose: entry.purpose, transactions: entry.transactions,
            removed: String(decoding: try JSONEncoder.sorted.encode(entry.removed), as: UTF8.self), auditSeq: entry.auditSeq, signedBy: entry.signedBy,
            signature: entry.signature.flatMap { Hex.decode(Array($0.utf8)) }, signerProof: proof)
    }

    /// The ledger inside a vault, as stored (unverified: see ``ErasureLedgerEntry/verify``).
    static func entries(_ tx: some StoreReading, vaultID: String) throws -> [ErasureLedgerEntry] {
        try tx.erasures().map { stored in
            var entry = ErasureLedgerEntry(vaultID: vaultID, customer: stored.customerID, erasedAt: stored.erasedAt, principal: stored.principal,
                                           purpose: stored.purpose, transactions: stored.transactions,
                                           removed: (try? JSONDecoder().decode(ErasureCounts.self, from: Data(stored.removed.utf8))) ?? ErasureCounts())
            entry.auditSeq = stored.auditSeq
            entry.signedBy = stored.signedBy
            entry.signature = stored.signature.map { Hex.encode($0) }
            entry.signerProof = stored.signerProof.flatMap { try? JSONDecoder().decode(SignerProof.self, from: Data($0.utf8)) }
            return entry
        }
    }

    /// The vault's own ledger, every entry verified.
    static func verifiedEntries(_ tx: some StoreReading, vaultID: [UInt8], rootPublicKey: [UInt8], policy: Policy) throws -> [ErasureLedgerEntry] {
        let entries = try entries(tx, vaultID: Hex.encode(vaultID))
        for entry in entries {
            let known = entry.signedBy.flatMap { try? tx.requirePrincipal(named: $0) }
            try entry.verify(vaultID: vaultID, rootPublicKey: rootPublicKey, policy: policy, known: known,
                             place: "erasure_ledger (customer \(entry.customer))")
        }
        return entries
    }

    /// Appends entries to a sidecar file (created with mode 0600, never through a symbolic link) and syncs it.
    static func append(_ entries: [ErasureLedgerEntry], toSidecar path: String) throws {
        guard !entries.isEmpty else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VaultError.io("cannot open the erasure ledger \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        for entry in entries { bytes += Array(try JSONEncoder.sorted.encode(entry)) + [0x0A] }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw VaultError.io("cannot write the erasure ledger \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads a sidecar or ledger file; a malformed line is an error naming it (a ledger is never half-read).
    static func read(sidecar path: String) throws -> [LedgerLine] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else { throw VaultError.io("cannot read the erasure ledger \(path)") }
        var lines: [LedgerLine] = []
        for (number, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            do {
                lines.append(LedgerLine(entry: try JSONDecoder().decode(ErasureLedgerEntry.self, from: Data(line)), place: "\(path):\(number + 1)"))
            } catch {
                throw VaultError.integrity("\(path):\(number + 1): not an erasure ledger entry")
            }
        }
        return lines
    }
}

extension CustomerVault {
    /// Removes every personal value of a customer: sealed values, blind-index entries, interactions
    /// (with their free text) and behaviour counters; transactions are removed or kept without any
    /// personal value; the customer row stays as an empty tombstone so the id is never reused.
    /// Every row it keeps is checked against its tag first and tagged again (an erasure never
    /// launders a row altered in the file).
    static func applyErasure(_ id: Int64, keepTransactions: Bool, at now: String, integrity: RecordIntegrity, in tx: some StoreWriting) throws -> ErasureCounts {
        guard var customer = try tx.customerRow(id: id) else { throw VaultError.notFound("no customer \(id)") }
        try customer.verify(integrity)
        var counts = ErasureCounts()
        counts.sealedValues += try tx.deleteSealedEntries(.customers, recordID: id)
        counts.indexEntries += try tx.deleteIndexEntries(customerID: id)
        counts.interactions = try tx.deleteHistoryRows(.interactions, customerID: id)
        let transactions = try HistoryRow.fetchVerified(.transactions, customerID: id, integrity: integrity, in: tx)
        counts.transactions = transactions.count
        if keepTransactions {
            for var transaction in transactions {
                counts.sealedValues += try tx.deleteSealedEntries(.transactions, recordID: transaction.id)
                transaction.sealedDigest = try RecordIntegrity.sealedDigest([SealedField](), entity: .transactions, recordID: transaction.id)
                try transaction.retag(integrity)
                try tx.update(transaction)
            }
        } else {
            _ = try tx.deleteHistoryRows(.transactions, customerID: id)
        }
        counts.behaviour = try tx.deleteBehaviour(customerID: id)
        _ = try tx.deleteConsentEvents(customerID: id)
        customer.attributes = "{}"
        customer.erasedAt = now
        customer.updatedAt = now
        customer.sealedDigest = try RecordIntegrity.sealedDigest([SealedField](), entity: .customers, recordID: id)
        customer.indexDigests = IndexDigests()
        try customer.retag(integrity)
        try tx.update(customer)
        return counts
    }
}
