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
}

/// A transaction or interaction row of one customer.
public struct HistoryRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var customerID: Int64
    public var fields: [String: String]
    /// When the row was stored (or, for an imported export, first stored).
    public var createdAt: String
}
