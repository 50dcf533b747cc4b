import Foundation
import VaultCrypto
import VaultCore
import VaultStore

/// One access-log entry as an auditor reads it.
public struct AuditRecord: Sendable, Equatable, Codable {
    public var seq: Int64
    public var at: String
    public var principal: String
    public var role: String
    public var action: String
    @NullEncoded public var purpose: String?
    @NullEncoded public var reason: String?
    public var target: String
    public var fields: String
    public var outcome: String
    public var errorCode: String
    public var detail: String
    public var policyHash: String
    public var terms: String
}

/// Which entries `auditLog` returns; every condition given must hold.
public struct AuditFilter: Sendable, Equatable {
    public var principal: String?
    public var customer: Int64?
    public var action: String?
    /// ISO 8601 UTC times (`2026-01-31T00:00:00Z`), inclusive.
    public var since: String?
    public var until: String?

    public init(principal: String? = nil, customer: Int64? = nil, action: String? = nil, since: String? = nil, until: String? = nil) {
        self.principal = principal
        self.customer = customer
        self.action = action
        self.since = since
        self.until = until
    }

    func admits(_ record: AuditRecord) -> Bool {
        if let principal, record.principal != principal { return false }
        if let action, record.action != action { return false }
        if let since, record.at < since { return false }
        if let until, record.at > until { return false }
        if let customer, !AuditChain.target(record.target, names: customer) { return false }
        return true
    }
}

extension CustomerVault {
    /// Access-log entries after `after` matching `filter`, oldest first, at most `limit` (action
    /// `audit.read`). Reading the log is itself logged.
    func auditLog(filter: AuditFilter = AuditFilter(), after: Int64 = 0, limit: Int = 100) async throws -> [AuditRecord] {
        guard (1...10_000).contains(limit) else { throw VaultError.invalidInput("limit must be between 1 and 10000") }
        return try await perform(AccessRequest(.auditRead)) { tx, note in
            let records = try Self.auditRecords(tx, filter: filter, after: after, limit: limit)
            note.target = "audit_log:\(records.first?.seq ?? after)-\(records.last?.seq ?? after)"
            note.detail = "\(records.count) entries"
            return records
        }
    }

    /// Calls `deliver` with new entries as they are written, polling every `interval` seconds,
    /// until the task is cancelled. One access-log entry records that following started; the
    /// polls themselves are not logged (the log holds no personal data, and logging each poll
    /// would feed the log it reads).
    func followAuditLog(filter: AuditFilter = AuditFilter(), after: Int64, interval: Double = 1,
                               deliver: @Sendable ([AuditRecord]) throws -> Void) async throws {
        let decision = try await perform(AccessRequest(.auditRead)) { _, note in
            note.target = "audit_log:follow after \(after)"
            return note.decision
        }
        var cursor = after
        while !Task.isCancelled {
            let start = cursor
            // One read transaction: the head and the entries up to it, so nothing written between is skipped.
            let (records, head) = try await readAllowed(by: decision) { tx in
                let log = tx
                let head = try log.auditHead()?.seq ?? 0
                return (try Self.auditRecords(log, filter: filter, after: start, through: head, limit: Int.max), head)
            }
            if !records.isEmpty { try deliver(records) }
            cursor = max(head, cursor)
            try await Task.sleep(nanoseconds: UInt64(max(0.05, interval) * 1_000_000_000))
        }
    }

    static func auditRecords(_ log: some AuditLogReading, filter: AuditFilter, after: Int64, through: Int64 = .max, limit: Int) throws -> [AuditRecord] {
        var records: [AuditRecord] = []
        try log.forEachAuditEntry(AuditQuery(after: after, through: through, principal: filter.principal, action: filter.action)) { stored in
            let entry = stored.entry
            let record = AuditRecord(
                seq: stored.seq, at: entry.at, principal: entry.principal, role: entry.role, action: entry.action, purpose: entry.purpose,
                reason: entry.reason, target: entry.target, fields: entry.fields.joined(separator: ","), outcome: entry.outcome.rawValue,
                errorCode: entry.errorCode, detail: entry.detail, policyHash: entry.policyHash, terms: entry.terms.joined(separator: ","))
            if filter.admits(record) { records.append(record) }
            return records.count < limit
        }
        return records
    }

    /// The current head of the log, signed by this principal, to keep outside the vault and give
    /// to `verifyAuditLog(expect:)` later (action `audit.read`).
    func auditHead() async throws -> AuditCheckpoint {
        try await perform(AccessRequest(.auditRead)) { [secrets, vaultID, principal] tx, note in
            guard let head = try tx.auditHead() else { throw VaultError.notFound("the access log is empty") }
            let seq = head.seq, hash = Hex.encode(head.hash), at = Timestamps.now()
            let signature = try Ed25519.sign(AuditCheckpoint.message(vaultID: vaultID, seq: seq, hash: hash, principal: principal, at: at),
                                             with: secrets.signingKeyPair)
            note.target = "audit_log:\(seq)"
            return AuditCheckpoint(vaultID: vaultID, seq: seq, hash: hash, principal: principal, at: at, signature: Hex.encode(signature))
        }
    }

    /// The digests under which a search for `value` by `field` appears in the access log's
    /// `terms`, for an auditor checking whether a known value was searched for (action `audit.read`):
    /// today's form first and, for a name whose form before issue #18 differed (accents, dotted I,
    /// zero-width characters were kept then), the digest older entries hold.
    func auditTermDigest(field name: String, value: String) async throws -> [String] {
        guard let field = schema.field(.customers, name), let search = field.search else {
            throw VaultError.invalidInput("customers.\(name) is not searchable, so it never appears in search terms")
        }
        guard let form = Normalization.searchForm(value, as: search.normalization, country: schema.defaultPhoneCountry) else {
            throw VaultError.invalidInput("\(name): the value is not a valid \(search.normalization.rawValue)")
        }
        return try await perform(AccessRequest(.auditRead)) { _, note in
            guard let key = note.codec.keyring.currentKey(field: KeyScope.vaultWide, purpose: .audit)?.key else {
                throw VaultError.accessDenied("access denied: this principal holds no audit key")
            }
            note.target = "audit_term:customers.\(name)"
            let forms = search.normalization == .name ? Normalization.probeForms(value, as: .name) : [form]
            return try forms.map { try AuditChain.termDigest(field: "customers.\(name)", form: $0, key: key) }
        }
    }
}
