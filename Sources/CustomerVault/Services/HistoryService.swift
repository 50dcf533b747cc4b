/// A customer's transactions, interactions and behaviour counters (see ``CustomerVault/history``).
public struct HistoryService: Sendable {
    let vault: CustomerVault

    /// Appends a transaction or interaction to a customer's history and returns its id.
    public func add(_ entity: Entity, customerID: Int64, values: [String: String]) async throws -> Int64 {
        try await vault.addHistory(entity, customerID: customerID, values: values)
    }
    /// A customer's transactions or interactions in the caller's views, oldest first.
    public func records(_ entity: Entity, customerID: Int64) async throws -> [HistoryRecord] {
        try await vault.history(entity, customerID: customerID)
    }
    /// Adds `delta` to a customer's behaviour counters and returns the new totals.
    public func recordBehaviour(customerID: Int64, adding delta: BehaviourCounters) async throws -> BehaviourCounters {
        try await vault.recordBehaviour(customerID: customerID, adding: delta)
    }
    /// A customer's behaviour counters.
    public func behaviour(customerID: Int64) async throws -> BehaviourCounters { try await vault.behaviour(customerID: customerID) }
}
