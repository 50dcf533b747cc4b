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
/// let id = try await vault.customers.add(["name": "Ada Lovelace", "email": "ada@example.com"])
/// let matches = try await vault.customers.find(field: "email", equalTo: "ADA@example.com")
/// ```
///
/// Its operations are grouped into services by concern (``customers``, ``history``, ``imports``,
/// ``exports``, ``reports``, ``keys``, ``principals``, ``audit``, ``backups``, ``privacy``,
/// ``integrity``), views of this handle that share its gate. Every method that reads or writes personal data asks the policy decision point and writes an
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

    /// The only way to the store: every transaction of the services passes its decision and
    /// access-log entry (the store itself is private to it).
    let gate: Gate
    let vaultIDBytes: [UInt8]
    let context: PrincipalContext
    let keyState: KeyState
    /// The keyring as last refreshed (see ``KeyState``).
    var keyring: Keyring { keyState.current.keyring }
    let secrets: PrincipalSecrets
    let validator: FieldValidator
    let sessionKeys: SessionKeyCache
    /// Identifies the policy in force in every access-log entry.
    var policyHash: String { gate.policyHash }
    /// The library's logger. Messages carry ids, counts, field names and error codes, never values.
    static let logger = Logger(label: "cvault")

    convenience init(path: String, store: any VaultStore, context: PrincipalContext, schema: Schema, policy: Policy,
         vaultID: [UInt8], keys: KeyState, secrets: PrincipalSecrets) {
        let sessionKeys = SessionKeyCache(vaultID: vaultID, rootPublicKey: secrets.rootSigningPublicKey, schema: schema, currentPolicy: policy)
        let gate = Gate(store: store, principal: context, keys: keys, decisionPoint: PolicyDecisionPoint(policy: policy, schema: schema),
                        audit: AuditTrail(vaultID: vaultID, signer: secrets.signingKeyPair), policyHash: AuditChain.policyHash(policy.source)) {
            decision, snapshot in
            RecordCodec(schema: schema, keyring: snapshot.keyring, vaultID: vaultID, views: decision.views, sessions: snapshot.sessions,
                        sessionKeys: sessionKeys)
        }
        self.init(path: path, gate: gate, context: context, schema: schema, policy: policy, vaultID: vaultID, keys: keys, secrets: secrets,
                  sessionKeys: sessionKeys, purpose: nil, reason: nil)
    }

    /// Another handle on the same gate (with its own purpose and reason).
    private init(path: String, gate: Gate, context: PrincipalContext, schema: Schema, policy: Policy, vaultID: [UInt8], keys: KeyState,
                 secrets: PrincipalSecrets, sessionKeys: SessionKeyCache, purpose: String?, reason: String?) {
        self.path = path
        self.gate = gate
        self.context = context
        self.schema = schema
        self.policy = policy
        self.vaultIDBytes = vaultID
        self.keyState = keys
        self.secrets = secrets
        self.validator = FieldValidator(schema: schema)
        self.sessionKeys = sessionKeys
        self.purpose = purpose
        self.reason = reason
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
        return CustomerVault(path: path, gate: gate, context: context, schema: schema, policy: policy, vaultID: vaultIDBytes,
                             keys: keyState, secrets: secrets, sessionKeys: sessionKeys, purpose: purpose, reason: reason)
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
    /// transaction (see ``Gate/perform(_:_:)``), with this handle's purpose and reason.
    func perform<T: Sendable>(
        _ request: AccessRequest,
        _ body: @escaping @Sendable (any StoreWriting, AuditNote) throws -> T
    ) async throws -> T {
        try await gate.perform(stated(request), body)
    }

    /// Decides `request`; a denial is logged and thrown (see ``Gate/requireAllowed(_:)``).
    @discardableResult
    func requireAllowed(_ request: AccessRequest) async throws -> AccessDecision {
        try await gate.requireAllowed(stated(request))
    }

    /// A read-only snapshot for an operation the decision point has already allowed (see
    /// ``Gate/readAllowed(by:_:)``).
    func readAllowed<T: Sendable>(by decision: AccessDecision, _ body: @escaping @Sendable (any StoreReading) throws -> T) async throws -> T {
        try await gate.readAllowed(by: decision, body)
    }

    /// A snapshot of the store into `path` for a backup the decision point has allowed.
    func snapshotAllowed(by decision: AccessDecision, to path: String) async throws {
        try await gate.snapshotAllowed(by: decision, to: path)
    }

    /// Logs that an allowed operation failed part-way outside a `perform` body, and returns the
    /// error to throw.
    func recordFailure(_ request: AccessRequest, _ error: any Error) async -> VaultError {
        await gate.recordFailure(stated(request), error)
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
