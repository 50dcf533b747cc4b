import Foundation
import GRDB
import VaultCrypto

/// What an access-log entry says. No personal value ever goes in here: targets are record ids,
/// fields are names with the view used, search terms are keyed digests, details are rule names.
struct AuditEntry: Sendable {
    enum Outcome: String, Sendable { case allowed, denied, failed }

    var at: String
    var principal: String
    var role: String
    var action: String
    var purpose: String?
    /// Free text given with the purpose (a reason); the caller's words, kept as given.
    var reason: String?
    /// Record ids, as `entity:1-40,42` ranges.
    var target: String
    /// Fields touched and how: `customers.email:plain`, `customers.address:masked`, `customers.email:write`.
    var fields: [String]
    var outcome: Outcome
    /// The ``VaultError/Code`` of a denied or failed request; empty when allowed.
    var errorCode: String = ""
    var detail: String
    /// BLAKE2b-128 of the policy text in force (hex).
    var policyHash: String = ""
    /// Keyed digests of search terms (see ``AuditTrail/termDigest(field:form:key:)``).
    var terms: [String] = []
}

/// Appends entries to the hash-chained, signed access log inside the caller's transaction.
///
/// Format 2: `hash = BLAKE2b-256("cvault.audit.v2" ‖ seq ‖ at ‖ principal ‖ signer public key ‖
/// role ‖ action ‖ purpose ‖ reason ‖ target ‖ fields ‖ outcome ‖ error code ‖ detail ‖ policy
/// hash ‖ terms ‖ previous hash)`, `signature = Ed25519(hash)` by the acting principal. The first
/// entry chains to `BLAKE2b-256("cvault.audit.genesis" ‖ vault id)`. Format 1 (the first releases)
/// hashed fewer columns and is still verified.
struct AuditTrail: Sendable {
    static let currentFormat: Int64 = 2

    let vaultID: [UInt8]
    let signer: Ed25519.KeyPair

    static func genesisHash(vaultID: [UInt8]) throws -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.audit.genesis")
        writer.append(vaultID)
        return try BLAKE2b.hash(writer.bytes)
    }

    static func entryHash(format: Int64, seq: Int64, entry: AuditEntry, signerPublicKey: [UInt8], previousHash: [UInt8]) throws -> [UInt8] {
        var writer = ByteWriter(domain: format == 1 ? "cvault.audit.v1" : "cvault.audit.v2")
        writer.append(seq)
        writer.append(entry.at)
        writer.append(entry.principal)
        if format >= 2 { writer.append(signerPublicKey) }
        writer.append(entry.role)
        writer.append(entry.action)
        writer.append(entry.purpose ?? "")
        if format >= 2 { writer.append(entry.reason ?? "") }
        writer.append(entry.target)
        writer.append(entry.fields.joined(separator: ","))
        writer.append(entry.outcome.rawValue)
        if format >= 2 { writer.append(entry.errorCode) }
        writer.append(entry.detail)
        if format >= 2 {
            writer.append(entry.policyHash)
            writer.append(entry.terms.joined(separator: ","))
        }
        writer.append(previousHash)
        return try BLAKE2b.hash(writer.bytes)
    }

    /// The sequence number the next entry appended in this transaction gets (records that name the
    /// entry of their own operation, made before it is appended: erasures, key changes, disables).
    static func nextSeq(_ db: Database) throws -> Int64 {
        let head = try BulkStatement(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        guard try head.next() else { return 1 }
        defer { head.reset() }
        return try Self.following(head.int64(0))
    }

    /// The sequence number after `seq`; a number at the end of the range is an edit of the file.
    static func following(_ seq: Int64) throws -> Int64 {
        let (next, overflow) = seq.addingReportingOverflow(1)
        guard !overflow, seq >= 0 else { throw VaultError.integrity("the access log's newest entry has sequence number \(seq) (altered in the file)") }
        return next
    }

    /// Appends `entry`. Throws (and so aborts the caller's transaction) when it cannot be written.
    func append(_ entry: AuditEntry, in db: Database) throws {
        // Every access runs this, so its statements bind through SQLite directly (`BulkStatement`).
        let head = try BulkStatement(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        var seq: Int64 = 1
        var previous: [UInt8]?
        if try head.next() {
            seq = try Self.following(head.int64(0))
            previous = head.bytes(1)
            head.reset()
        }
        let previousHash = try previous ?? Self.genesisHash(vaultID: vaultID)
        let hash = try Self.entryHash(format: Self.currentFormat, seq: seq, entry: entry, signerPublicKey: signer.publicKey,
                                      previousHash: previousHash)
        let signature = try Ed25519.sign(hash, with: signer)
        let insert = try BulkStatement(db, sql: """
            INSERT INTO audit_log (seq, format, at, principal, role, action, purpose, reason, target, fields, outcome, error_code,
                                   detail, policy_hash, terms, prev_hash, hash, signature)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try insert.bind(1, seq)
        try insert.bind(2, Self.currentFormat)
        for (index, text) in [entry.at, entry.principal, entry.role, entry.action].enumerated() { try insert.bind(Int32(3 + index), text) }
        try insert.bind(7, optional: entry.purpose)
        try insert.bind(8, optional: entry.reason)
        for (index, text) in [entry.target, entry.fields.joined(separator: ","), entry.outcome.rawValue, entry.errorCode, entry.detail,
                              entry.policyHash, entry.terms.joined(separator: ",")].enumerated() {
            try insert.bind(Int32(9 + index), text)
        }
        try insert.bind(16, previousHash)
        try insert.bind(17, hash)
        try insert.bind(18, signature)
        try insert.execute()
    }

    /// Record ids as sorted ranges (`customers:1-40,42`), so every id stays findable by an access-log
    /// filter on one customer while a page of consecutive ids stays short.
    static func bulkTarget(entity: Entity, ids: [Int64]) -> String {
        var parts: [String] = []
        let sorted = Array(Set(ids)).sorted()
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? String(sorted[index]) : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return "\(entity.rawValue):" + parts.joined(separator: ",")
    }

    /// Whether a target names customer `id` (directly or within a range).
    static func target(_ target: String, names id: Int64) -> Bool {
        for part in target.split(separator: ";") where part.hasPrefix("customers:") {
            for range in part.dropFirst("customers:".count).split(separator: ",") {
                let bounds = range.split(separator: "-").compactMap { Int64($0) }
                if bounds.count == 1, bounds[0] == id { return true }
                if bounds.count == 2, (bounds[0]...max(bounds[0], bounds[1])).contains(id) { return true }
            }
        }
        return false
    }

    /// A search term as the access log keeps it: BLAKE2b-128 keyed with the vault's audit key over
    /// the field and the term's normalised form. Holders of the audit key can test a guess
    /// (``CustomerVault/auditTermDigest(field:value:)``); nobody else learns the term.
    static func termDigest(field: String, form: String, key: SecretBytes) throws -> String {
        var writer = ByteWriter(domain: "cvault.audit-term.v1")
        writer.append(field)
        writer.append(form)
        return Hex.encode(try BLAKE2b.hash(writer.bytes, key: key, outputLength: 16))
    }

    static func policyHash(_ source: String) -> String {
        (try? BLAKE2b.hash(Array(source.utf8), outputLength: 16)).map(Hex.encode) ?? ""
    }
}
