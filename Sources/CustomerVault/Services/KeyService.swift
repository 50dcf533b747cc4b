/// Field keys: which versions seal what, rotation and retirement (see ``CustomerVault/keys``).
public struct KeyService: Sendable {
    let vault: CustomerVault

    /// Each field's current key version and how many values and index entries each version holds.
    public func status() async throws -> KeysReport { try await vault.keyStatus() }
    /// Re-seals `fields` (all when empty) under new key versions, in resumable batches.
    public func rotate(fields: [String] = [], resume: Bool = false, batchSize: Int = CustomerVault.defaultRotationBatchSize,
                       progress: (@Sendable (RotationProgress) -> Void)? = nil) async throws -> RotationReport {
        try await vault.rotateKeys(fields: fields, resume: resume, batchSize: batchSize, progress: progress)
    }
    /// Removes key versions that no value or index entry uses any more.
    public func retire(fields: [String] = []) async throws -> [RetiredKey] { try await vault.retireKeys(fields: fields) }
}
