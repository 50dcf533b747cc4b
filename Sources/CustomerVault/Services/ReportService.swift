/// Aggregates over plain attributes and history, with no personal value (see ``CustomerVault/reports``).
public struct ReportService: Sendable {
    let vault: CustomerVault

    /// Counts by region and age band, transaction totals by currency, behaviour totals.
    public func aggregate() async throws -> AggregateReport { try await vault.aggregateReport() }
}
