/// Everything the vault can be asked to do that touches personal data or keys.
public enum VaultAction: String, Sendable, CaseIterable, Codable {
    case vaultInit = "vault.init"
    case customerCreate = "customer.create"
    case customerRead = "customer.read"
    case customerSearch = "customer.search"
    case customerList = "customer.list"
    case customerUpdate = "customer.update"
    case customerDelete = "customer.delete"
    case transactionWrite = "transaction.write"
    case transactionRead = "transaction.read"
    case interactionWrite = "interaction.write"
    case interactionRead = "interaction.read"
    case behaviourWrite = "behaviour.write"
    case behaviourRead = "behaviour.read"
    case importData = "import"
    case exportData = "export"
}

/// One request to the policy decision point.
struct AccessRequest: Sendable {
    var action: VaultAction
    /// Fields the request reads or writes (`customers.email`, …).
    var fields: [String]
    var purpose: String?
    var reason: String?

    init(_ action: VaultAction, fields: [String] = [], purpose: String? = nil, reason: String? = nil) {
        self.action = action
        self.fields = fields
        self.purpose = purpose
        self.reason = reason
    }
}

/// The decision and the rule that made it (shown by `policy explain` and kept in the audit log).
struct AccessDecision: Sendable, Equatable {
    var allowed: Bool
    var rule: String
}

/// The single policy decision point. Every public entry point that touches personal data asks it.
///
/// Until role policy files land this knows one built-in rule: the `admin` role may do everything
/// and every other role nothing (deny by default).
struct PolicyDecisionPoint: Sendable {
    static let administratorRole = "admin"

    func decide(role: String, request: AccessRequest) -> AccessDecision {
        if role == Self.administratorRole {
            return AccessDecision(allowed: true, rule: "built-in: role admin may \(request.action.rawValue)")
        }
        return AccessDecision(allowed: false, rule: "deny by default: no grant of \(request.action.rawValue) to role \(role)")
    }
}
