import Foundation
import GRDB
import Logging
import VaultCrypto

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
/// returned for reads. Personal values are sealed before they reach SQLite.
public final class CustomerVault: Sendable {
    /// The unlocked principal.
    public let principal: String
    /// Its role.
    public let role: String
    /// The schema stored in the vault.
    public let schema: Schema
    /// Random identifier of this vault, bound into every ciphertext.
    public var vaultID: String { Hex.encode(vaultIDBytes) }
    public let path: String

    let pool: DatabasePool
    let vaultIDBytes: [UInt8]
    let keyring: Keyring
    let audit: AuditTrail
    let decisionPoint = PolicyDecisionPoint()
    let validator: FieldValidator
    /// The library's logger. Messages carry ids, counts, field names and error codes, never values.
    static let logger = Logger(label: "cvault")

    init(path: String, pool: DatabasePool, principal: String, role: String, schema: Schema,
         vaultID: [UInt8], keyring: Keyring, secrets: PrincipalSecrets) {
        self.path = path
        self.pool = pool
        self.principal = principal
        self.role = role
        self.schema = schema
        self.vaultIDBytes = vaultID
        self.keyring = keyring
        self.audit = AuditTrail(vaultID: vaultID, signer: secrets.signingKeyPair)
        self.validator = FieldValidator(schema: schema)
    }

    // MARK: - The one gate

    /// Decides, runs `body` in a write transaction, and appends the access-log entry in that same
    /// transaction. A denied or failed request is logged in a transaction of its own and rethrown.
    ///
    /// Reads run here too: their entry is committed before the caller decrypts anything.
    func perform<T: Sendable>(
        _ request: AccessRequest,
        _ body: @escaping @Sendable (Database, AuditNote) throws -> T
    ) async throws -> T {
        let decision = decisionPoint.decide(role: role, request: request)
        guard decision.allowed else {
            Self.logger.notice("access denied", metadata: ["principal": "\(principal)", "action": "\(request.action.rawValue)", "rule": "\(decision.rule)"])
            try await recordOutcome(request, outcome: .denied, target: "-", detail: decision.rule)
            throw VaultError.accessDenied("access denied: \(decision.rule)")
        }
        do {
            return try await pool.write { [self] db in
                let note = AuditNote()
                let result = try body(db, note)
                try audit.append(entry(request, outcome: .allowed, target: note.target, detail: note.detail ?? decision.rule), in: db)
                return result
            }
        } catch {
            let vaultError = Self.vaultError(from: error)
            if vaultError.code == .integrity || vaultError.code == .io {
                Self.logger.error("\(request.action.rawValue) failed: \(vaultError.message)", metadata: ["principal": "\(principal)"])
            }
            try? await recordOutcome(request, outcome: .failed, target: "-", detail: vaultError.code.rawValue)
            throw vaultError
        }
    }

    private func recordOutcome(_ request: AccessRequest, outcome: AuditEntry.Outcome, target: String, detail: String) async throws {
        do {
            try await pool.write { [self] db in
                try audit.append(entry(request, outcome: outcome, target: target, detail: detail), in: db)
            }
        } catch {
            throw VaultError.io("the access log cannot be written: \(VaultDatabase.describe(error))")
        }
    }

    private func entry(_ request: AccessRequest, outcome: AuditEntry.Outcome, target: String, detail: String) -> AuditEntry {
        AuditEntry(at: Timestamps.now(), principal: principal, role: role, action: request.action.rawValue,
                   purpose: request.purpose, target: target, fields: request.fields, outcome: outcome, detail: detail)
    }

    static func vaultError(from error: any Error) -> VaultError {
        switch error {
        case let error as VaultError: return error
        case let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB:
            return VaultError.integrity("the vault file is corrupt: \(VaultDatabase.describe(error))")
        case let error as DatabaseError:
            return VaultError.io(VaultDatabase.describe(error))
        case let error as CryptoError:
            return VaultError.integrity("cryptographic failure: \(error.code.rawValue)")
        default:
            return VaultError.io("unexpected failure: \(type(of: error))")
        }
    }
}

/// What a gated operation tells the access log about its target, filled in inside the transaction.
final class AuditNote: @unchecked Sendable {
    // Only touched on the database queue that runs the operation.
    var target = "-"
    var detail: String?
}
