/// Everything the vault can be asked to do that touches personal data, keys or the access log.
/// Policy files name these actions; `*` and `customer.*`-style wildcards expand over them.
public enum VaultAction: String, Sendable, CaseIterable, Codable {
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
    /// Counts and sums over plain attributes (region, age band, transactions, behaviour).
    case reportAggregate = "report.aggregate"
    case backup = "vault.backup"
    case restore = "vault.restore"
    case rotateKeys = "keys.rotate"
    /// Add and disable principals, apply policies. Makes the role a key custodian.
    case principalsManage = "principals.manage"
    case auditRead = "audit.read"
    case subjectExport = "subject.export"
    case subjectErase = "subject.erase"
    /// Check every row, tag, signature and sealed value of the vault (``CustomerVault/verifyIntegrity()``).
    case vaultVerify = "vault.verify"
    /// Built in, not grantable: creating the vault, and a principal changing its own credential.
    case vaultInit = "vault.init"
    case credentialChange = "principal.passwd"
    /// Built in: a key custodian's first open of a vault made before record integrity tags them.
    case vaultUpgrade = "vault.upgrade"

    /// Actions a policy may grant.
    public static var grantable: [VaultAction] { allCases.filter { $0 != .vaultInit && $0 != .credentialChange && $0 != .vaultUpgrade } }

    /// Whether a role allowed this action reads or writes record rows, and so holds the record key.
    package var usesRecords: Bool { touchesCustomerRows || self == .vaultVerify }

    /// The entity whose personal values the action reads, if any (for the access log's fields).
    package var readsEntity: Entity? {
        switch self {
        case .customerRead, .customerSearch, .customerList, .exportData, .subjectExport: .customers
        case .transactionRead: .transactions
        case .interactionRead: .interactions
        default: nil
        }
    }

    /// Actions that open existing customer rows, so the role's row conditions apply.
    package var touchesCustomerRows: Bool {
        switch self {
        case .backup, .restore, .rotateKeys, .principalsManage, .auditRead, .vaultInit, .credentialChange, .vaultUpgrade, .vaultVerify: false
        default: true
        }
    }
}

/// One request to the policy decision point.
package struct AccessRequest: Sendable {
    package var action: VaultAction
    /// Personal fields the request writes (`customers.email`, …): each needs `write`.
    package var writes: [String]
    /// The field searched by, which needs `search`.
    package var searchField: String?
    package var purpose: String?
    package var reason: String?
    /// The entity whose personal values the request reads in the role's views (for the access
    /// log's fields): the action's, unless an export of history or behaviour says otherwise.
    package var readEntity: Entity?

    package init(_ action: VaultAction, writes: [String] = [], searchField: String? = nil) {
        self.action = action
        self.writes = writes
        self.searchField = searchField
        self.readEntity = action.readsEntity
    }
}
