/// CSV and JSON Lines imports, in batches that each commit with their access-log entry (see
/// ``CustomerVault/imports``).
public struct ImportService: Sendable {
    let vault: CustomerVault

    /// Imports a customers, transactions or interactions file with default options.
    public func file(_ entity: Entity, from path: String, batchSize: Int = CustomerVault.defaultImportBatchSize,
                     progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> ImportReport {
        try await vault.importCSV(entity, from: path, batchSize: batchSize, progress: progress)
    }
    /// Imports a file with explicit options (column mapping, reject file, upsert, resume ...).
    public func file(_ entity: Entity, from path: String, options: ImportOptions,
                     progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> ImportReport {
        try await vault.importCSV(entity, from: path, options: options, progress: progress)
    }
    /// Imports behaviour counters (added to each customer's totals).
    public func behaviour(from path: String, options: ImportOptions = ImportOptions(),
                          progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> ImportReport {
        try await vault.importBehaviour(from: path, options: options, progress: progress)
    }
}
