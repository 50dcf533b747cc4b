/// Who is asking: the unlocked principal, its role and its attributes (for row conditions).
package struct PrincipalContext: Sendable, Equatable {
    package var name: String
    package var role: String
    package var attributes: [String: String]

    package init(name: String, role: String, attributes: [String: String]) {
        self.name = name
        self.role = role
        self.attributes = attributes
    }
}

/// Which customer rows a decision lets through. Rows that fail are invisible: left out of
/// searches and lists, "not found" on direct access.
package struct RowFilter: Sendable {
    package var conditions: [RowCondition]
    package var principalAttributes: [String: String]

    package static let everything = RowFilter(conditions: [], principalAttributes: [:])

    package func admits(_ attributes: [String: String]) -> Bool {
        conditions.allSatisfy { $0.admits(attributes, principalAttributes: principalAttributes) }
    }

    package var isUnrestricted: Bool { conditions.isEmpty }

    /// The first condition a customer with these attributes fails, if any (for `policy explain`).
    package func firstFailing(_ attributes: [String: String]) -> RowCondition? {
        conditions.first { !$0.admits(attributes, principalAttributes: principalAttributes) }
    }
}

/// The decision and the rule that made it (shown by `policy explain` and kept in the audit log).
package struct AccessDecision: Sendable {
    package var allowed: Bool
    package var rule: String
    /// The view of every personal field (`customers.email` → plain), for an allowed decision.
    package var views: [String: FieldView] = [:]
    package var rows: RowFilter = .everything
    /// For a denial that the caller can fix.
    package var remedy: VaultError.Remedy?

    package static func deny(_ rule: String, remedy: VaultError.Remedy? = nil) -> AccessDecision { AccessDecision(allowed: false, rule: rule, remedy: remedy) }
}

/// The single policy decision point. Every public entry point that touches personal data, keys or
/// the access log asks it, through ``CustomerVault/perform(_:_:)``.
///
/// Order: built-in rules, then an explicit deny, then deny by default, then the grant's purposes,
/// then each field written or searched. The first rule that refuses names itself in the decision.
package struct PolicyDecisionPoint: Sendable {
    package let policy: Policy
    package let schema: Schema

    package init(policy: Policy, schema: Schema) {
        self.policy = policy
        self.schema = schema
    }

    /// The row conditions of `principal`'s role, bound to its attributes: what a decision on an
    /// action that touches customer rows lets through (also shown when that action is denied).
    package func rowFilter(for principal: PrincipalContext) -> RowFilter {
        RowFilter(conditions: policy.role(principal.role)?.rows ?? [], principalAttributes: principal.attributes)
    }

    package func decide(_ request: AccessRequest, for principal: PrincipalContext) -> AccessDecision {
        let action = request.action.rawValue
        if request.action == .credentialChange || request.action == .vaultInit {
            return AccessDecision(allowed: true, rule: "built-in: every principal may \(action) for itself")
        }
        guard let role = policy.role(principal.role) else {
            return .deny("role \(principal.role) is not defined in the policy in force")
        }
        if request.action == .vaultUpgrade {
            return role.isKeyCustodian ? AccessDecision(allowed: true, rule: "built-in: a key custodian upgrades the vault's format")
                : .deny("only a key custodian (a role allowed principals.manage) upgrades a vault's format")
        }
        if let line = role.deny[request.action] {
            return .deny("policy line \(line): role \(role.name) explicitly denies \(action)")
        }
        guard let grant = role.allow[request.action] else {
            return .deny("role \(role.name) has no grant of \(action) (deny by default)")
        }
        if !grant.purposes.isEmpty {
            let accepted = grant.purposes.joined(separator: ", ")
            guard let purpose = request.purpose else {
                return .deny("\(action) by role \(role.name) requires a purpose: \(accepted) (policy line \(grant.line))", remedy: .givePurpose)
            }
            guard grant.purposes.contains(purpose) else {
                return .deny("purpose \(purpose) is not accepted for \(action) by role \(role.name) (accepted: \(accepted); policy line \(grant.line))")
            }
        }
        for field in request.writes where !role.grant(for: field).write {
            // A format-1 policy let any write action set plain attributes.
            if !policy.plainWritesNeedGrants && !schema.isPersonalField(field) { continue }
            return .deny("role \(role.name) may not write \(field) (no 'write: true' for it in the policy)")
        }
        if let field = request.searchField, !role.grant(for: field).search {
            return .deny("role \(role.name) may not search by \(field) (no 'search: true' for it in the policy)")
        }
        var views: [String: FieldView] = [:]
        for entity in Entity.allCases {
            for field in schema.personalFields(of: entity) {
                let name = KeyScope.fieldName(entity, field.name)
                views[name] = role.grant(for: name).view
            }
        }
        let rows = request.action.touchesCustomerRows
            ? rowFilter(for: principal) : .everything
        let purpose = request.purpose.map { " for purpose \($0)" } ?? ""
        return AccessDecision(allowed: true, rule: "policy line \(grant.line): role \(role.name) allows \(action)\(purpose)",
                              views: views, rows: rows)
    }
}
