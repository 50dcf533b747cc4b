/// What an access-log entry says. No personal value ever goes in here: targets are record ids,
/// fields are names with the view used, search terms are keyed digests, details are rule names.
package struct AuditEntry: Sendable, Equatable {
    package enum Outcome: String, Sendable { case allowed, denied, failed }

    package var at: String
    package var principal: String
    package var role: String
    package var action: String
    package var purpose: String?
    /// Free text given with the purpose (a reason); the caller's words, kept as given.
    package var reason: String?
    /// Record ids, as `entity:1-40,42` ranges.
    package var target: String
    /// Fields touched and how: `customers.email:plain`, `customers.address:masked`, `customers.email:write`.
    package var fields: [String]
    package var outcome: Outcome
    /// The ``VaultError/Code`` of a denied or failed request; empty when allowed.
    package var errorCode: String = ""
    package var detail: String
    /// BLAKE2b-128 of the policy text in force (hex).
    package var policyHash: String = ""
    /// Keyed digests of search terms (see ``AuditTrail/termDigest(field:form:key:)``).
    package var terms: [String] = []

    package init(at: String, principal: String, role: String, action: String, purpose: String? = nil, reason: String? = nil, target: String,
                 fields: [String], outcome: Outcome, errorCode: String = "", detail: String, policyHash: String = "", terms: [String] = []) {
        self.at = at
        self.principal = principal
        self.role = role
        self.action = action
        self.purpose = purpose
        self.reason = reason
        self.target = target
        self.fields = fields
        self.outcome = outcome
        self.errorCode = errorCode
        self.detail = detail
        self.policyHash = policyHash
        self.terms = terms
    }
}
