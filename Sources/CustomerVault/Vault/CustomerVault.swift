import Foundation
import Logging
import VaultCrypto
import VaultCore
import VaultStore

/// An unlocked customer vault: one principal's view of one vault file.
///
/// ```swift
/// let vault = try await CustomerVault.open(at: "crm.vault", principal: "admin",
///                                          credential: .passphrase(passphrase))
/// let id = try await vault.addCustomer(["name": "Ada Lovelace", "email": "ada@example.com"])
/// let matches = try await vault.findCustomers(field: "email", equalTo: "ADA@example.com")
/// ```
///
/// Every method that reads or writes personal data asks the policy decision point and writes an
/// access-log entry: in the same transaction for writes, and durably before any plaintext is
/// returned for reads. Personal values are sealed before they reach the store.
public final class CustomerVault: Sendable {
    /// The unlocked principal.
    public var principal: String { context.name }
    /// Its role.
    public var role: String { context.role }
    /// The schema stored in the vault.
    public let schema: Schema
    /// The access policy in force (verified against the vault's root key when the vault opened).
    public let policy: Policy
    /// The purpose requests of this handle give (see ``withPurpose(_:reason:)``).
    public let purpose: String?
    public let reason: String?
    /// Random identifier of this vault, bound into every ciphertext.
    public var vaultID: String { Hex.encode(vaultIDBytes) }
    public let path: String

    /// Where the vault keeps its rows. Services reach its transactions only through the gate
    /// (``perform(_:_:)``, ``readAllowed(by:_:)``) and the lifecycle calls that open the handle.
    let store: any VaultStore
    let vaultIDBytes: [UInt8]
    let context: PrincipalContext
    let keys: KeyState
    /// The keyring as last refreshed (see ``KeyState``).
    var keyring: Keyring { keys.current.keyring }
    let secrets: PrincipalSecrets
    let audit: AuditTrail
    let decisionPoint: PolicyDecisionPoint
    let validator: FieldValidator
    let sessionKeys: SessionKeyCache
    /// Identifies the policy in force in every access-log entry.
    let policyHash: String
    /// The library's logger. Messages carry ids, counts, field names and error codes, never values.
    static let logger = Logger(label: "cvault")

    init(path: String, store: any VaultStore, context: PrincipalContext, schema: Schema, policy: Policy,
         vaultID: [UInt8], keys: KeyState, secrets: PrincipalSecrets,
         sessionKeys: SessionKeyCache? = nil, purpose: String? = nil, reason: String? = nil) {
        self.path = path
        self.store = store
        self.context = context
        self.schema = schema
        self.policy = policy
        self.vaultIDBytes = vaultID
        self.keys = keys
        self.secrets = secrets
        self.audit = AuditTrail(vaultID: vaultID, signer: secrets.signingKeyPair)
        self.decisionPoint = PolicyDecisionPoint(policy: policy, schema: schema)
        self.validator = FieldValidator(schema: schema)
        self.sessionKeys = sessionKeys ?? SessionKeyCache(vaultID: vaultID, rootPublicKey: secrets.rootSigningPublicKey, schema: schema,
                                                          currentPolicy: policy)
        self.purpose = purpose
        self.reason = reason
        self.policyHash = AuditChain.policyHash(policy.source)
    }

    /// The same unlocked vault, giving `purpose` (and a free-text `reason`, kept in the access log:
    /// never put personal data in it) with every request. Grants that name purposes need one.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` for a purpose the policy does not define.
    public func withPurpose(_ purpose: String, reason: String? = nil) throws -> CustomerVault {
        guard policy.purposes[purpose] != nil else {
            let known = policy.purposes.keys.sorted().joined(separator: ", ")
            throw VaultError.invalidInput("unknown purpose '\(PolicyLoader.shown(purpose))' (the policy defines: \(known.isEmpty ? "none" : known))")
        }
        if let reason, reason.count > 500 || reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw VaultError.invalidInput("a reason is one line of at most 500 characters")
        }
        return CustomerVault(path: path, store: store, context: context, schema: schema, policy: policy, vaultID: vaultIDBytes,
                             keys: keys, secrets: secrets, sessionKeys: sessionKeys,
                             purpose: purpose, reason: reason)
    }

    /// The record key's tagger from the current keyring, for work outside a transaction's codec.
    var recordIntegrity: RecordIntegrity {
        get throws { try RecordCodec(schema: schema, keyring: keyring, vaultID: vaultIDBytes).integrity }
    }

    /// This handle with `purpose`, when one is given (a handle re-opened for the same caller).
    func withPurposeIfSet(_ purpose: String?, reason: String?) throws -> CustomerVault {
        guard let purpose else { return self }
        return try withPurpose(purpose, reason: reason)
    }

    /// A codec that opens exactly the views `decision` grants, with the keys of `snapshot`.
    func codec(_ decision: AccessDecision, _ snapshot: KeyState.Snapshot) -> RecordCodec {
        RecordCodec(schema: schema, keyring: snapshot.keyring, vaultID: vaultIDBytes, views: decision.views,
                    sessions: snapshot.sessions, sessionKeys: sessionKeys)
    }

    // MARK: - The one gate

    /// `request` with this handle's purpose and reason.
    private func stated(_ request: AccessRequest) -> AccessRequest {
        var request = request
        request.purpose = purpose
        request.reason = reason
        return request
    }

    /// Decides, runs `body` in a write transaction, and appends the access-log entry in that same
    /// transaction. A denied or failed request is logged in a transaction of its own and rethrown.
    ///
    /// Reads run here too: their entry is committed before the caller decrypts anything.
    func perform<T: Sendable>(
        _ request: AccessRequest,
        _ body: @escaping @Sendable (any StoreWriting, AuditNote) throws -> T
    ) async throws -> T {
        let request = stated(request)
        let decision = try await requireAllowed(request)
        do {
            let (result, snapshot) = try await store.write { [self] tx in
                let snapshot = try keys.refreshed(tx, policyHash: policyHash)
                let note = AuditNote(decision: decision, codec: codec(decision, snapshot))
                let result = try body(tx, note)
                try audit.append(entry(request, decision: decision, outcome: .allowed, target: note.target,
                                       detail: note.detail ?? decision.rule, terms: note.terms), to: tx)
                return (result, snapshot)
            }
            // Only now, after the commit: write sessions started in a rolled-back transaction must
            // never be used.
            keys.publish(snapshot)
            return result
        } catch {
            let vaultError = Self.vaultError(from: error)
            if vaultError.code == .integrity || vaultError.code == .io {
                Self.logger.error("\(request.action.rawValue) failed: \(vaultError.message)", metadata: ["principal": "\(principal)"])
            }
            try? await recordOutcome(entry(request, decision: nil, outcome: .failed, target: "-", errorCode: vaultError.code.rawValue,
                                           detail: String(vaultError.message.prefix(300))))
            throw vaultError
        }
    }

    /// Decides `request`; a denial is logged (in its own transaction) and thrown. Operations that
    /// must prepare work before their transaction (deriving keys) call this first, then ``perform(_:_:)``.
    @discardableResult
    func requireAllowed(_ request: AccessRequest) async throws -> AccessDecision {
        try keys.requireCurrent()
        let request = stated(request)
        let decision = decisionPoint.decide(request, for: context)
        guard decision.allowed else {
            Self.logger.notice("access denied", metadata: ["principal": "\(principal)", "action": "\(request.action.rawValue)", "rule": "\(decision.rule)"])
            try await recordOutcome(entry(request, decision: nil, outcome: .denied, target: "-",
                                          errorCode: VaultError.Code.accessDenied.rawValue, detail: decision.rule))
            throw VaultError.accessDenied("access denied: \(decision.rule)", remedy: decision.remedy)
        }
        return decision
    }

    /// A read-only snapshot for an operation the decision point has already allowed, whose own
    /// audited transactions log what it does: import progress and rejects, new access-log entries
    /// while following, and the ciphertexts a rotation prepares before its audited write (no
    /// plaintext leaves the library from here).
    func readAllowed<T: Sendable>(by decision: AccessDecision, _ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T {
        guard decision.allowed else { throw VaultError.accessDenied("access denied: \(decision.rule)") }
        return try await store.read(body)
    }

    /// A snapshot of the database into `path` for a backup the decision point has allowed; the
    /// backup's own audited transactions log it before and after.
    func snapshotAllowed(by decision: AccessDecision, to path: String) async throws {
        guard decision.allowed else { throw VaultError.accessDenied("access denied: \(decision.rule)") }
        try await store.snapshot(to: path)
    }

    /// Logs that an allowed operation failed part-way outside a `perform` body (a backup's
    /// snapshot or file), and returns the error to throw.
    func recordFailure(_ request: AccessRequest, _ error: any Error) async -> VaultError {
        let vaultError = Self.vaultError(from: error)
        try? await recordOutcome(entry(stated(request), decision: nil, outcome: .failed, target: "-", errorCode: vaultError.code.rawValue,
                                       detail: String(vaultError.message.prefix(300))))
        return vaultError
    }

    private func recordOutcome(_ entry: AuditEntry) async throws {
        do {
            try await store.write { [audit, principal] tx in
                // A principal disabled meanwhile signs nothing more, not even its refusals.
                guard try tx.principalStanding(named: principal)?.enabled == true else { return }
                try audit.append(entry, to: tx)
            }
        } catch {
            throw VaultError.io("the access log cannot be written: \(Self.vaultError(from: error).message)")
        }
    }

    private func entry(_ request: AccessRequest, decision: AccessDecision?, outcome: AuditEntry.Outcome, target: String,
                       errorCode: String = "", detail: String, terms: [String] = []) -> AuditEntry {
        AuditEntry(at: Timestamps.now(), principal: principal, role: role, action: request.action.rawValue, purpose: request.purpose,
                   reason: request.reason, target: target, fields: Self.fieldsTouched(request, decision: decision), outcome: outcome,
                   errorCode: errorCode, detail: detail, policyHash: policyHash, terms: terms)
    }

    /// The fields a request touched and how: written, searched by, or read in a view.
    static func fieldsTouched(_ request: AccessRequest, decision: AccessDecision?) -> [String] {
        var fields = request.writes.map { "\($0):write" }
        if let searched = request.searchField { fields.append("\(searched):search") }
        if let decision, let entity = request.readEntity {
            fields += decision.views.filter { $0.key.hasPrefix(entity.rawValue + ".") && $0.value != .none }
                .map { "\($0.key):\($0.value.rawValue)" }.sorted()
        }
        return fields
    }

    static func vaultError(from error: any Error) -> VaultError {
        switch error {
        case let error as VaultError: return error
        case let error as CryptoError:
            return VaultError.integrity("cryptographic failure: \(error.code.rawValue)")
        default:
            return VaultError.io("unexpected failure: \(type(of: error))")
        }
    }
}

/// What a gated operation is allowed (the decision, and a codec opening exactly its views) and
/// what it tells the access log about its target, filled in inside the transaction.
final class AuditNote: @unchecked Sendable {
    let decision: AccessDecision
    let codec: RecordCodec
    // Only touched on the database queue that runs the operation.
    var target = "-"
    var detail: String?
    /// Keyed digests of the search terms, for the access log.
    var terms: [String] = []

    init(decision: AccessDecision, codec: RecordCodec) {
        self.decision = decision
        self.codec = codec
    }

    /// Whether the decision's row conditions let this customer through.
    func admits(customerAttributes: [String: String]) -> Bool { decision.rows.admits(customerAttributes) }
}
