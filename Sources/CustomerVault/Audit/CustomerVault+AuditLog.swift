import Foundation
import GRDB
import VaultSQLite
import VaultCrypto
import VaultCore

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
    public func auditLog(filter: AuditFilter = AuditFilter(), after: Int64 = 0, limit: Int = 100) async throws -> [AuditRecord] {
        guard (1...10_000).contains(limit) else { throw VaultError.invalidInput("limit must be between 1 and 10000") }
        return try await perform(AccessRequest(.auditRead)) { db, note in
            let records = try Self.auditRecords(db, filter: filter, after: after, limit: limit)
            note.target = "audit_log:\(records.first?.seq ?? after)-\(records.last?.seq ?? after)"
            note.detail = "\(records.count) entries"
            return records
        }
    }

    /// Calls `deliver` with new entries as they are written, polling every `interval` seconds,
    /// until the task is cancelled. One access-log entry records that following started; the
    /// polls themselves are not logged (the log holds no personal data, and logging each poll
    /// would feed the log it reads).
    public func followAuditLog(filter: AuditFilter = AuditFilter(), after: Int64, interval: Double = 1,
                               deliver: @Sendable ([AuditRecord]) throws -> Void) async throws {
        let decision = try await perform(AccessRequest(.auditRead)) { _, note in
            note.target = "audit_log:follow after \(after)"
            return note.decision
        }
        var cursor = after
        while !Task.isCancelled {
            let start = cursor
            // One read transaction: the head and the entries up to it, so nothing written between is skipped.
            let (records, head) = try await readAllowed(by: decision) { db in
                let head = try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM audit_log") ?? 0
                return (try Self.auditRecords(db, filter: filter, after: start, through: head, limit: Int.max), head)
            }
            if !records.isEmpty { try deliver(records) }
            cursor = max(head, cursor)
            try await Task.sleep(nanoseconds: UInt64(max(0.05, interval) * 1_000_000_000))
        }
    }

    static func auditRecords(_ db: Database, filter: AuditFilter, after: Int64, through: Int64 = .max, limit: Int) throws -> [AuditRecord] {
        var records: [AuditRecord] = []
        var sql = """
            SELECT seq, at, principal, role, action, purpose, reason, target, fields, outcome, error_code, detail, policy_hash, terms
            FROM audit_log WHERE seq > ? AND seq <= ?
            """
        var arguments: [any DatabaseValueConvertible] = [after, through]
        if let principal = filter.principal { sql += " AND principal = ?"; arguments.append(principal) }
        if let action = filter.action { sql += " AND action = ?"; arguments.append(action) }
        sql += " ORDER BY seq"
        let rows = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))
        while records.count < limit, let row = try rows.next() {
            let record = AuditRecord(
                seq: try row.checked("seq"), at: try row.checked("at"), principal: try row.checked("principal"), role: try row.checked("role"), action: try row.checked("action"),
                purpose: try row.checked("purpose"), reason: try row.checked("reason"), target: try row.checked("target"), fields: try row.checked("fields"), outcome: try row.checked("outcome"),
                errorCode: try row.checked("error_code"), detail: try row.checked("detail"), policyHash: try row.checked("policy_hash"), terms: try row.checked("terms"))
            if filter.admits(record) { records.append(record) }
        }
        return records
    }

    /// The current head of the log, signed by this principal, to keep outside the vault and give
    /// to `verifyAuditLog(expect:)` later (action `audit.read`).
    public func auditHead() async throws -> AuditCheckpoint {
        try await perform(AccessRequest(.auditRead)) { [secrets, vaultID, principal] db, note in
            guard let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") else {
                throw VaultError.notFound("the access log is empty")
            }
            let seq: Int64 = try row.checked("seq"), hash = Hex.encode([UInt8](try row.checked("hash") as Data)), at = Timestamps.now()
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
    public func auditTermDigest(field name: String, value: String) async throws -> [String] {
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
