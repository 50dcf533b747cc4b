/// File formats of exports and imports.
public enum FileFormat: String, Sendable, CaseIterable, Codable {
    case csv, jsonl

    /// The file name extension (`customers.csv`, `customers.jsonl`).
    public var fileExtension: String { rawValue }
}

/// What kind of records an export or import file holds.
public enum RecordKind: String, Sendable, CaseIterable, Codable {
    case customers, transactions, interactions, behaviour

    /// The read action a role needs beside `export` (customers are what `export` itself reads).
    package var readAction: VaultAction? {
        switch self {
        case .customers: nil
        case .transactions: .transactionRead
        case .interactions: .interactionRead
        case .behaviour: .behaviourRead
        }
    }

    public init(_ entity: Entity) {
        switch entity {
        case .customers: self = .customers
        case .transactions: self = .transactions
        case .interactions: self = .interactions
        }
    }

    /// The entity whose records these are, if any (behaviour counters are part of a customer).
    public var entity: Entity? {
        switch self {
        case .customers: .customers
        case .transactions: .transactions
        case .interactions: .interactions
        case .behaviour: nil
        }
    }
}
