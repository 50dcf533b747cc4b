/// A customer as the unlocked principal may see it.
public struct CustomerRecord: Sendable, Equatable, Codable {
    public var id: Int64
    /// Field values by schema name: opened personal values and plain attributes (e.g. `region`,
    /// and the derived `age_band`).
    public var fields: [String: String]
    /// Fields shown in their masked form (the principal's view of them is `masked`).
    public var masked: [String] = []
    public var createdAt: String
    public var updatedAt: String

    package init(id: Int64, fields: [String: String], masked: [String] = [], createdAt: String, updatedAt: String) {
        self.id = id
        self.fields = fields
        self.masked = masked
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A transaction or interaction row of one customer.
public struct HistoryRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var customerID: Int64
    public var fields: [String: String]
    /// When the row was stored (or, for an imported export, first stored).
    public var createdAt: String

    package init(id: Int64, customerID: Int64, fields: [String: String], createdAt: String) {
        self.id = id
        self.customerID = customerID
        self.fields = fields
        self.createdAt = createdAt
    }
}
