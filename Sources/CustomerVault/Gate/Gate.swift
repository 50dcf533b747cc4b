import VaultCore
import VaultStore

/// The one gate between the vault's services and its store: the policy decision and the
/// access-log entry of every transaction.
///
/// The store is private here, so a service has no way to it but ``perform(_:_:)`` (decide, run the
/// body in a write transaction, append the entry in that same transaction) and the reads of an
/// operation already decided (``readAllowed(by:_:)``, ``snapshotAllowed(by:to:)``). A denied or
/// failed request is logged in a transaction of its own; nothing is returned before its entry
/// is durable.
final class Gate: Sendable {
    private let store: any VaultStore
    let principal: PrincipalContext
    let keys: KeyState
    let decisionPoint: PolicyDecisionPoint
    private let audit: AuditTrail
    /// Identifies the policy in force in every access-log entry.
    let policyHash: String
    /// A codec that opens exactly the views a decision grants, with the keys of a snapshot.
    private let codec: @Sendable (AccessDecision, KeyState.Snapshot) -> RecordCodec

    init(store: any VaultStore, principal: PrincipalContext, keys: KeyState, decisionPoint: PolicyDecisionPoint, audit: AuditTrail,
         policyHash: String, codec: @escaping @Sendable (AccessDecision, KeyState.Snapshot) -> RecordCodec) {
        self.store = store
        self.principal = principal
        self.keys = keys
        self.decisionPoint = decisionPoint
        self.audit = audit
        self.policyHash = policyHash
        self.codec = codec
    }

    /// Decides, runs `body` in a write transaction, and appends the access-log entry in that same
    /// transaction. A denied or failed request is logged in a transaction of its own and rethrown.
    ///
    /// Reads run here too: their entry is committed before the caller decrypts anything.
    func perform<T: Sendable>(
        _ request: AccessRequest,
        _ body: @escaping @Sendable (any StoreWriting, AuditNote) throws -> T
    ) async throws -> T {
        let decision = try await requireAllowed(request)
        do {
            let (result, snapshot, started) = try await store.write { [self] tx in
                var snapshot = try keys.refreshed(tx)
                let started = try startWriteSessionsIfNeeded(for: request.action, in: &snapshot, tx)
                let note = AuditNote(decision: decision, codec: codec(decision, snapshot))
                let result = try body(tx, note)
                try audit.append(entry(request, decision: decision, outcome: .allowed, target: note.target,
                                       detail: note.detail ?? decision.rule, terms: note.terms), to: tx)
                return (result, snapshot, started)
            }
            // Only now, after the commit: write sessions started in a rolled-back transaction must
            // never be used.
            keys.publish(snapshot, force: started)
            return result
        } catch {
            let vaultError = CustomerVault.vaultError(from: error)
            if vaultError.code == .integrity || vaultError.code == .io {
                CustomerVault.logger.error("\(request.action.rawValue) failed: \(vaultError.message)", metadata: ["principal": "\(principal.name)"])
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
        let decision = decisionPoint.decide(request, for: principal)
        guard decision.allowed else {
            CustomerVault.logger.notice("access denied", metadata: ["principal": "\(principal.name)", "action": "\(request.action.rawValue)",
                                                                    "rule": "\(decision.rule)"])
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

    /// A snapshot of the store into `path` for a backup the decision point has allowed; the
    /// backup's own audited transactions log it before and after.
    func snapshotAllowed(by decision: AccessDecision, to path: String) async throws {
        guard decision.allowed else { throw VaultError.accessDenied("access denied: \(decision.rule)") }
        try await store.snapshot(to: path)
    }

    /// Logs that an allowed operation failed part-way outside a `perform` body (a backup's
    /// snapshot or file), and returns the error to throw.
    func recordFailure(_ request: AccessRequest, _ error: any Error) async -> VaultError {
        let vaultError = CustomerVault.vaultError(from: error)
        try? await recordOutcome(entry(request, decision: nil, outcome: .failed, target: "-", errorCode: vaultError.code.rawValue,
                                       detail: String(vaultError.message.prefix(300))))
        return vaultError
    }

    // MARK: - Bookkeeping that holds no personal data

    /// Actions that seal nothing: they never start write sessions (any other action may write).
    static let readOnlyActions: Set<VaultAction> = [
        .customerRead, .customerSearch, .customerList, .transactionRead, .interactionRead, .behaviourRead, .exportData,
        .reportAggregate, .auditRead, .subjectExport, .vaultVerify, .backup,
    ]

    /// Starts the write sessions of a keyring with write-only fields in the transaction of the
    /// first request that may seal with them (so a handle that only reads writes nothing for
    /// them); the sessions are signed, and published only once that transaction has committed.
    /// Returns whether it started any.
    private func startWriteSessionsIfNeeded(for action: VaultAction, in snapshot: inout KeyState.Snapshot,
                                            _ tx: some StoreWriting) throws -> Bool {
        guard !Self.readOnlyActions.contains(action), snapshot.sessions.isEmpty,
              !WriteSessions.writeOnlyScopes(snapshot.keyring).isEmpty else { return false }
        snapshot.sessions = try WriteSessions.start(principal: try tx.requirePrincipal(named: principal.name),
                                                    signer: keys.secrets.signingKeyPair, keyring: snapshot.keyring,
                                                    vaultID: keys.vaultID, policyHash: policyHash, in: tx)
        return true
    }

    /// Folds the store's log into its main file (see ``VaultStore/checkpoint()``).
    func checkpoint() async throws { try await store.checkpoint() }

    /// Closes the store; no handle on this gate may be used afterwards.
    func close() throws { try store.close() }

    /// The store itself, for tests that inspect the file under an open vault (its connection
    /// settings). No library file may use it (`DecisionPointCoverageTests.noSideDoorToTheStore`).
    var storeForTests: any VaultStore { store }

    // MARK: - The access-log entry

    private func recordOutcome(_ entry: AuditEntry) async throws {
        do {
            try await store.write { [audit, principal] tx in
                // A principal disabled meanwhile signs nothing more, not even its refusals.
                guard try tx.principalStanding(named: principal.name)?.enabled == true else { return }
                try audit.append(entry, to: tx)
            }
        } catch {
            throw VaultError.io("the access log cannot be written: \(CustomerVault.vaultError(from: error).message)")
        }
    }

    private func entry(_ request: AccessRequest, decision: AccessDecision?, outcome: AuditEntry.Outcome, target: String,
                       errorCode: String = "", detail: String, terms: [String] = []) -> AuditEntry {
        AuditEntry(at: Timestamps.now(), principal: principal.name, role: principal.role, action: request.action.rawValue, purpose: request.purpose,
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
}
