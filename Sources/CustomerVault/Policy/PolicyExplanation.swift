import Foundation
import VaultSQLite
import VaultCore
import VaultStore

/// What ``CustomerVault/explain(at:principal:action:field:customerID:purpose:)`` returns: the decision for one principal, action, field and customer.
public struct PolicyExplanation: Sendable, Equatable, Codable {
    public var principal: String
    public var role: String
    public var action: String
    @NullEncoded public var purpose: String?
    public var allowed: Bool
    /// The rule that decided.
    public var rule: String
    @NullEncoded public var field: String?
    /// The principal's view of `field` (plain, masked, none) and whether it may write or search it.
    @NullEncoded public var view: FieldView?
    @NullEncoded public var write: Bool?
    @NullEncoded public var search: Bool?
    @NullEncoded public var customer: Int64?
    /// Whether the customer passes the role's row conditions, and the first condition that fails.
    @NullEncoded public var customerVisible: Bool?
    @NullEncoded public var rowRule: String?
}

extension CustomerVault {
    /// Explains a decision without unlocking: roles, attributes and the policy are not secret.
    /// The stored policy and the principal's certificate are verified against the vault's root key.
    /// The customer's plain attributes are read without checking their row tag (that needs a record
    /// key, which explaining does not unlock): a file writer can change what this reports, never
    /// what the decision point decides on an unlocked read (SECURITY.md §10).
    ///
    /// - Parameters:
    ///   - field: `customers.email`, or a bare customers field name.
    ///   - customerID: Also evaluate the role's row conditions on this customer's plain attributes.
    public static func explain(at path: String, principal: String, action: VaultAction, field: String? = nil,
                               customerID: Int64? = nil, purpose: String? = nil) async throws -> PolicyExplanation {
        let store = try SQLiteStore.open(path: path)
        defer { try? store.close() }
        do {
            return try await store.read { tx in
                let meta = try VaultMeta.load(tx)
                let record = try tx.requirePrincipal(named: principal)
                try record.verifyCertificate(vaultID: meta.vaultID, rootPublicKey: meta.rootSigningPublicKey, legacy: !meta.isCurrent)
                let qualified = field.map { $0.contains(".") ? $0 : KeyScope.fieldName(.customers, $0) }
                if let qualified, !meta.schema.isPersonalField(qualified) {
                    throw VaultError.invalidInput("\(PolicyLoader.shown(qualified)) is not a personal field of the schema")
                }
                var request = AccessRequest(action)
                request.purpose = purpose
                if let qualified {
                    if action == .customerSearch { request.searchField = qualified }
                    if PolicyLoader.writeActions.values.contains(where: { $0.contains(action) }) { request.writes = [qualified] }
                }
                let context = PrincipalContext(name: record.name, role: record.role, attributes: record.attributes)
                let decisionPoint = PolicyDecisionPoint(policy: meta.policy, schema: meta.schema)
                let decision = decisionPoint.decide(request, for: context)
                var explanation = PolicyExplanation(principal: record.name, role: record.role, action: action.rawValue, purpose: purpose,
                                                    allowed: decision.allowed && !record.disabled,
                                                    rule: record.disabled ? "principal \(record.name) is disabled" : decision.rule)
                if let qualified, let grant = meta.policy.role(record.role)?.grant(for: qualified) {
                    explanation.field = qualified
                    explanation.view = grant.view
                    explanation.write = grant.write
                    explanation.search = grant.search
                }
                if let customerID {
                    guard let row = try tx.customerRow(id: customerID), row.erasedAt == nil else {
                        throw VaultError.notFound("no customer \(customerID)")
                    }
                    let attributes = try RecordCodec.decodeAttributes(row.attributes, entity: .customers, id: customerID)
                    let rows = decisionPoint.rowFilter(for: context)
                    let conditions = rows.conditions
                    let failing = rows.firstFailing(attributes)
                    explanation.customer = customerID
                    explanation.customerVisible = failing == nil
                    explanation.rowRule = failing.map { "policy line \($0.line): row condition \($0) does not hold" }
                        ?? (conditions.isEmpty ? "the role has no row conditions" : "all \(conditions.count) row conditions hold")
                    if let failing, action.touchesCustomerRows, explanation.allowed {
                        explanation.allowed = false
                        explanation.rule = "policy line \(failing.line): row condition \(failing) does not hold for customer \(customerID) (the customer is invisible to this role)"
                    }
                }
                return explanation
            }
        } catch {
            throw vaultError(from: error)
        }
    }
}

extension CustomerVault {
    /// The schema and policy stored in a vault, the policy's signature verified against the vault's
    /// root key. Needs no credential.
    public static func storedPolicy(at path: String) async throws -> (schema: Schema, policy: Policy) {
        guard FileManager.default.fileExists(atPath: path) else { throw VaultError.notFound("no vault at \(path)") }
        let store = try SQLiteStore.open(path: path)
        defer { try? store.close() }
        do {
            let meta = try await store.read { tx in try VaultMeta.load(tx) }
            return (meta.schema, meta.policy)
        } catch {
            throw vaultError(from: error)
        }
    }
}
