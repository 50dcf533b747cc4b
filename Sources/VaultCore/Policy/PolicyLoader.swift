import Foundation
import Yams

extension Policy {
    /// Most roles and entries a policy may hold; a larger file is more likely hostile than real.
    package static let maximumRoles = 256
    package static let maximumEntries = 4_096

    /// Reads and validates a policy file against a schema.
    ///
    /// - Throws: ``VaultError`` `.notFound` for a missing file, `.invalidInput` listing every
    ///   problem found, one per line, each as `file:line: message`.
    public static func load(fileAt path: String, schema: Schema) throws -> Policy {
        try load(yaml: try readText(fileAt: path), schema: schema, fileName: path)
    }

    /// The text of a policy file: UTF-8, at most 1 MiB (larger files are refused unread).
    public static func readText(fileAt path: String) throws -> String {
        try YAMLReader.readFile(at: path, what: "policy file")
    }

    /// Parses and validates policy YAML. Problems in one role do not stop the others from being
    /// checked, so one run reports them all.
    public static func load(yaml text: String, schema: Schema, fileName: String = "policy.yaml") throws -> Policy {
        var loader = PolicyLoader(reader: YAMLReader(fileName: fileName), schema: schema)
        return try loader.load(text)
    }
}

/// The parser behind ``Policy/load(yaml:schema:fileName:)``: one switch per level over the allowed
/// keys, so an unknown key is always an error.
package struct PolicyLoader {
    package let reader: YAMLReader
    package let schema: Schema
    private var problems: [VaultError] = []
    private var entries = 0
    /// The file's format: from 2, field grants also name plain attributes (`write` only).
    private var format = Policy.currentFormat

    package init(reader: YAMLReader, schema: Schema) {
        self.reader = reader
        self.schema = schema
    }

    package mutating func load(_ text: String) throws -> Policy {
        do {
            return try check(text)
        } catch let stop as Stop {
            throw stop.refusal
        }
    }

    private mutating func check(_ text: String) throws -> Policy {
        let root = try reader.parse(text)
        var policy = Policy(purposes: [:], roles: [:], source: text)
        var sawFormat = false
        var rolesNode: Node?
        for (key, keyNode, value) in try reader.mapping(root, "the policy") {
            do {
                switch key {
                case "format":
                    let format = try reader.integer(value, "format")
                    guard Policy.supportedFormats.contains(format) else {
                        throw reader.error(at: value, "policy format \(format) is not supported (this build reads formats 1 and 2)")
                    }
                    policy.format = format
                    self.format = format
                    sawFormat = true
                case "purposes":
                    policy.purposes = try loadPurposes(value)
                case "roles":
                    rolesNode = value
                case "erasure":
                    for (option, optionNode, optionValue) in try reader.mapping(value, "erasure") {
                        guard option == "transactions" else {
                            throw reader.error(at: optionNode, "unknown key '\(Self.shown(option))' in erasure (expected transactions)")
                        }
                        switch try reader.string(optionValue, "erasure.transactions") {
                        case "keep_pseudonymised": policy.erasureKeepsTransactions = true
                        case "remove": policy.erasureKeepsTransactions = false
                        case let other: throw reader.error(at: optionValue, "erasure.transactions is keep_pseudonymised or remove, not '\(Self.shown(other))'")
                        }
                    }
                case "retention":
                    for (kindName, kindNode, periodNode) in try reader.mapping(value, "retention") {
                        do {
                            guard let kind = RetentionKind(rawValue: kindName) else {
                                throw reader.error(at: kindNode, "unknown retention kind '\(Self.shown(kindName))' (expected \(RetentionKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                            }
                            let text = try reader.string(periodNode, "retention.\(kindName)")
                            guard let period = RetentionPeriod.parse(text) else {
                                throw reader.error(at: periodNode, "retention.\(kindName) must be a period such as 90d, 18m or 2y, not '\(Self.shown(text))'")
                            }
                            policy.retention[kind] = period
                        } catch { try noting(error) }
                    }
                default:
                    throw reader.error(at: keyNode, "unknown key '\(Self.shown(key))' (expected format, purposes, roles, erasure, retention)")
                }
            } catch { try noting(error) }
        }
        if !sawFormat { problems.append(reader.error(at: root, "missing 'format: \(Policy.currentFormat)'")) }
        guard let rolesNode else {
            problems.append(reader.error(at: root, "missing 'roles'"))
            throw combined()
        }
        let roles: [(key: String, keyNode: Node, value: Node)]
        do {
            roles = try reader.mapping(rolesNode, "roles")
            guard !roles.isEmpty else { throw reader.error(at: rolesNode, "the policy defines no roles") }
            guard roles.count <= Policy.maximumRoles else { throw reader.error(at: rolesNode, "more than \(Policy.maximumRoles) roles") }
        } catch {
            try noting(error)
            throw combined()
        }
        for (name, keyNode, value) in roles {
            do {
                guard NamePattern.lowerIdentifier(name, maxLength: 32, hyphen: true) else {
                    throw reader.error(at: keyNode, "role name '\(Self.shown(name))' must be 1 to 32 lower-case letters, digits, '_' or '-', starting with a letter")
                }
                policy.roles[name] = try loadRole(name, value, line: YAMLReader.line(of: keyNode), purposes: policy.purposes)
            } catch { try noting(error) }
        }
        guard problems.isEmpty else { throw combined() }
        return policy
    }

    /// Most problems one refusal lists; a hostile file could hold tens of thousands.
    package static let maximumProblems = 200

    /// Every problem found, one per line in line order (roles are checked after the rest of the
    /// file), as one error.
    private func combined() -> VaultError {
        let prefix = reader.fileName + ":"
        func line(_ problem: VaultError) -> Int {
            guard problem.message.hasPrefix(prefix) else { return 0 }
            return Int(problem.message.dropFirst(prefix.count).prefix { $0.isNumber }) ?? 0
        }
        let ordered = problems.enumerated().sorted { (line($0.element), $0.offset) < (line($1.element), $1.offset) }.map(\.element)
        let lines = ordered.prefix(Self.maximumProblems).map(\.message)
        let more = problems.count >= Self.maximumProblems ? ["… checking stopped after \(Self.maximumProblems) problems"] : []
        return VaultError.invalidInput((lines + more).joined(separator: "\n"))
    }

    /// Names from a hostile file are shown short and printable.
    package static func shown(_ text: String) -> String {
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }))
        return printable.count > 40 ? String(printable.prefix(40)) + "…" : printable
    }

    /// Ends checking early: too many entries or problems to be worth listing (a hostile file).
    private struct Stop: Error {
        package var refusal: VaultError
    }

    /// Counts an entry; past the limit, checking stops.
    private mutating func count(_ node: Node) throws {
        entries += 1
        guard entries <= Policy.maximumEntries else {
            problems.append(reader.error(at: node, "more than \(Policy.maximumEntries) entries; checking stopped here"))
            throw Stop(refusal: combined())
        }
    }

    /// Keeps a problem of one entry so that checking goes on: one run lists every problem (up to
    /// ``maximumProblems``, then checking stops).
    private mutating func noting(_ error: any Error) throws {
        guard let problem = error as? VaultError else { throw error }
        problems.append(problem)
        if problems.count >= Self.maximumProblems { throw Stop(refusal: combined()) }
    }

    private mutating func loadPurposes(_ node: Node) throws -> [String: String] {
        var purposes: [String: String] = [:]
        for (name, keyNode, value) in try reader.mapping(node, "purposes") {
            try count(keyNode)
            do {
                guard NamePattern.lowerIdentifier(name, maxLength: 48) else {
                    throw reader.error(at: keyNode, "purpose name '\(Self.shown(name))' must be lower-case letters, digits and '_'")
                }
                purposes[name] = try reader.string(value, "the description of purpose \(name)")
            } catch { try noting(error) }
        }
        return purposes
    }

    // swiftlint:disable:next function_body_length
    private mutating func loadRole(_ name: String, _ node: Node, line: Int, purposes: [String: String]) throws -> RolePolicy {
        var role = RolePolicy(name: name, description: "", allow: [:], deny: [:], fields: [:], rows: [], line: line)
        var fieldsNode: Node?, rowsNode: Node?
        var specificAllows: [VaultAction: Int] = [:]
        for (key, keyNode, value) in try reader.mapping(node, "role \(name)") {
            do {
                switch key {
                case "description":
                    role.description = try reader.string(value, "description")
                case "allow":
                    guard case .sequence(let items) = value else { throw reader.error(at: value, "role \(name): allow must be a list") }
                    for item in items {
                        try count(item)
                        do {
                            let (pattern, patternNode, grantPurposes) = try loadAllowEntry(item, role: name, purposes: purposes)
                            let actions = try expand(pattern, at: patternNode, role: name)
                            for action in actions {
                                if let earlier = role.allow[action] {
                                    throw reader.error(at: item, "role \(name): \(action.rawValue) is allowed twice (also on line \(earlier.line))")
                                }
                                role.allow[action] = ActionGrant(action: action, purposes: grantPurposes, line: YAMLReader.line(of: item))
                                if !pattern.contains("*") { specificAllows[action] = YAMLReader.line(of: item) }
                            }
                        } catch { try noting(error) }
                    }
                case "deny":
                    for item in try sequence(value, "role \(name): deny") {
                        try count(item)
                        do {
                            for action in try expand(try reader.string(item, "an action"), at: item, role: name) {
                                role.deny[action] = YAMLReader.line(of: item)
                            }
                        } catch { try noting(error) }
                    }
                case "fields": fieldsNode = value
                case "rows": rowsNode = value
                default:
                    throw reader.error(at: keyNode, "role \(name): unknown key '\(Self.shown(key))' (description, allow, deny, fields, rows)")
                }
            } catch { try noting(error) }
        }
        for (action, allowLine) in specificAllows.sorted(by: { ($0.value, $0.key.rawValue) < ($1.value, $1.key.rawValue) }) {
            if let denyLine = role.deny[action] {
                problems.append(VaultError.invalidInput("\(reader.fileName):\(allowLine): role \(name): the grant of \(action.rawValue) can never apply: line \(denyLine) denies it, and a deny wins"))
            }
        }
        do {
            if let fieldsNode { role.fields = try loadFields(fieldsNode, role: role) }
        } catch { try noting(error) }
        do {
            if let rowsNode { role.rows = try loadRows(rowsNode, role: name) }
        } catch { try noting(error) }
        return role
    }

    private func sequence(_ node: Node, _ what: String) throws -> [Node] {
        guard case .sequence(let items) = node else { throw reader.error(at: node, "\(what) must be a list") }
        return Array(items)
    }

    private func loadAllowEntry(_ item: Node, role: String, purposes: [String: String]) throws -> (String, Node, [String]) {
        if case .scalar = item { return (try reader.string(item, "an action"), item, []) }
        var pattern: (String, Node)?
        var grantPurposes: [String] = []
        for (key, keyNode, value) in try reader.mapping(item, "an allow entry") {
            switch key {
            case "action": pattern = (try reader.string(value, "action"), value)
            case "purposes":
                grantPurposes = try reader.strings(value, "purposes")
                guard !grantPurposes.isEmpty else {
                    throw reader.error(at: value, "role \(role): an empty purposes list can never be met (remove it to need no purpose)")
                }
                for purpose in grantPurposes where purposes[purpose] == nil {
                    // At most 20 names: a hostile file could define tens of thousands.
                    let known = purposes.keys.sorted().prefix(20).map(Self.shown).joined(separator: ", ") + (purposes.count > 20 ? ", …" : "")
                    throw reader.error(at: value, "role \(role): unknown purpose '\(Self.shown(purpose))' (defined: \(known.isEmpty ? "none" : known))")
                }
            default:
                throw reader.error(at: keyNode, "role \(role): unknown key '\(Self.shown(key))' in an allow entry (action, purposes)")
            }
        }
        guard let pattern else { throw reader.error(at: item, "role \(role): an allow entry needs 'action'") }
        return (pattern.0, pattern.1, grantPurposes)
    }

    /// `customer.read`, `customer.*` or `*` to the actions it names.
    private func expand(_ pattern: String, at node: Node, role: String) throws -> [VaultAction] {
        let grantable = VaultAction.grantable
        let actions: [VaultAction]
        if pattern == "*" {
            actions = grantable
        } else if pattern.hasSuffix(".*") {
            let prefix = String(pattern.dropLast())
            actions = grantable.filter { $0.rawValue.hasPrefix(prefix) }
        } else {
            actions = grantable.filter { $0.rawValue == pattern }
        }
        guard !actions.isEmpty else {
            throw reader.error(at: node, "role \(role): unknown action '\(Self.shown(pattern))' (actions: \(grantable.map(\.rawValue).joined(separator: ", ")))")
        }
        return actions
    }

    // MARK: - Fields

    private static let readActions: [Entity: [VaultAction]] = [
        .customers: [.customerRead, .customerSearch, .customerList, .exportData, .subjectExport],
        .transactions: [.transactionRead, .subjectExport],
        .interactions: [.interactionRead, .subjectExport],
    ]
    package static let writeActions: [Entity: [VaultAction]] = [
        .customers: [.customerCreate, .customerUpdate, .importData],
        .transactions: [.transactionWrite, .importData],
        .interactions: [.interactionWrite, .importData],
    ]

    private mutating func loadFields(_ node: Node, role: RolePolicy) throws -> [String: FieldGrant] {
        var wildcard: [String: FieldGrant] = [:]
        var specific: [String: FieldGrant] = [:]
        for (key, keyNode, value) in try reader.mapping(node, "role \(role.name): fields") {
            try count(keyNode)
            do {
                let grant = try loadFieldGrant(value, field: key, role: role.name)
                if key == "*" || key.hasSuffix(".*") {
                    let entities = key == "*" ? Entity.allCases : Entity.allCases.filter { "\($0.rawValue).*" == key }
                    guard !entities.isEmpty else {
                        throw reader.error(at: keyNode, "role \(role.name): unknown entity in '\(Self.shown(key))' (customers, transactions, interactions)")
                    }
                    for entity in entities {
                        for field in schema.fields(of: entity) where field.isPersonal || format >= 2 {
                            // A wildcard gives each field what it can have: no mask means no masked
                            // view; a plain attribute can only be written (it is visible to any read).
                            var fitted = grant
                            if fitted.view == .masked && field.mask == nil { fitted.view = .none }
                            if field.search == nil { fitted.search = false }
                            if !field.isPersonal { fitted.view = .none; fitted.search = false }
                            wildcard[KeyScope.fieldName(entity, field.name)] = fitted
                        }
                    }
                    continue
                }
                let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
                guard parts.count == 2, let entity = Entity(rawValue: parts[0]) else {
                    throw reader.error(at: keyNode, "role \(role.name): '\(Self.shown(key))' is not entity.field (e.g. customers.email) or a wildcard")
                }
                guard let field = schema.field(entity, parts[1]) else {
                    let known = (format >= 2 ? schema.fields(of: entity) : schema.personalFields(of: entity)).map(\.name).joined(separator: ", ")
                    throw reader.error(at: keyNode, "role \(role.name): unknown field \(Self.shown(key)) (\(format >= 2 ? "" : "personal ")fields of \(entity.rawValue): \(known))")
                }
                guard field.isPersonal || format >= 2 else {
                    throw reader.error(at: keyNode, "role \(role.name): \(key) is a plain attribute stored in clear; in a format-1 policy field grants apply to personal fields only (format 2 grants plain attributes `write`)")
                }
                if !field.isPersonal && (grant.view != .none || grant.search) {
                    throw reader.error(at: value, "role \(role.name): \(key) is a plain attribute, visible with any read action; only `write` applies to it")
                }
                if grant.view == .masked && field.mask == nil {
                    throw reader.error(at: value, "role \(role.name): \(key) has no mask in the schema, so a masked view can never apply")
                }
                if grant.search && field.search == nil {
                    throw reader.error(at: value, "role \(role.name): \(key) has no blind index in the schema, so search can never apply")
                }
                try checkApplies(grant, field: key, entity: entity, role: role, node: value)
                specific[key] = grant
            } catch { try noting(error) }
        }
        return wildcard.merging(specific) { _, specific in specific }
    }

    private func checkApplies(_ grant: FieldGrant, field: String, entity: Entity, role: RolePolicy, node: Node) throws {
        let reads = Self.readActions[entity] ?? [], writes = Self.writeActions[entity] ?? []
        if grant.view != .none && !reads.contains(where: role.allows) {
            throw reader.error(at: node, "role \(role.name): the \(grant.view.rawValue) view of \(field) can never apply: the role allows none of \(reads.map(\.rawValue).joined(separator: ", "))")
        }
        if grant.write && !writes.contains(where: role.allows) {
            throw reader.error(at: node, "role \(role.name): write on \(field) can never apply: the role allows none of \(writes.map(\.rawValue).joined(separator: ", "))")
        }
        if grant.search && !role.allows(.customerSearch) {
            throw reader.error(at: node, "role \(role.name): search on \(field) can never apply: the role does not allow customer.search")
        }
        if grant.search && grant.view == .none {
            throw reader.error(at: node, "role \(role.name): search on \(field) with view none can never return it; give it a view")
        }
    }

    private func loadFieldGrant(_ node: Node, field: String, role: String) throws -> FieldGrant {
        var grant = FieldGrant(line: YAMLReader.line(of: node))
        for (key, keyNode, value) in try reader.mapping(node, "role \(role): \(field)") {
            switch key {
            case "view":
                guard let view = FieldView(rawValue: try reader.string(value, "view")) else {
                    throw reader.error(at: value, "role \(role): \(field): view must be plain, masked or none")
                }
                grant.view = view
            case "write": grant.write = try reader.bool(value, "write")
            case "search": grant.search = try reader.bool(value, "search")
            default:
                throw reader.error(at: keyNode, "role \(role): \(field): unknown key '\(Self.shown(key))' (view, write, search)")
            }
        }
        return grant
    }

    // MARK: - Rows

    private mutating func loadRows(_ node: Node, role: String) throws -> [RowCondition] {
        var conditions: [RowCondition] = []
        for item in try sequence(node, "role \(role): rows") {
            try count(item)
            do {
                var attribute: (String, Node)?, test: RowCondition.Test?
                for (key, keyNode, value) in try reader.mapping(item, "a row condition") {
                    switch key {
                    case "attribute": attribute = (try reader.string(value, "attribute"), value)
                    case "equals": test = .equals(try reader.string(value, "equals"))
                    case "in_principal":
                        let name = try reader.string(value, "in_principal")
                        guard NamePattern.lowerIdentifier(name, maxLength: 32) else {
                            throw reader.error(at: value, "role \(role): principal attribute names are lower-case letters, digits and '_'")
                        }
                        test = .inPrincipalAttribute(name)
                    default:
                        throw reader.error(at: keyNode, "role \(role): unknown key '\(Self.shown(key))' in a row condition (attribute, equals, in_principal)")
                    }
                }
                guard let attribute else { throw reader.error(at: item, "role \(role): a row condition needs 'attribute'") }
                guard let test else { throw reader.error(at: item, "role \(role): a row condition needs 'equals' or 'in_principal'") }
                guard let field = schema.field(.customers, attribute.0) else {
                    throw reader.error(at: attribute.1, "role \(role): unknown customer attribute '\(Self.shown(attribute.0))'")
                }
                guard !field.isPersonal else {
                    throw reader.error(at: attribute.1, "role \(role): \(attribute.0) is personal (sealed); row conditions use plain attributes only")
                }
                if case .equals(let value) = test {
                    let validator = FieldValidator(schema: schema)
                    guard (try? validator.canonical(value, for: field)) == value else {
                        throw reader.error(at: item, "role \(role): \(attribute.0) can never equal '\(Self.shown(value))' (not a valid canonical value of the field)")
                    }
                }
                conditions.append(RowCondition(attribute: attribute.0, test: test, line: YAMLReader.line(of: item)))
            } catch { try noting(error) }
        }
        return conditions
    }
}
