public import Foundation

/// Exports in the caller's views, streamed in pages (see ``CustomerVault/exports``).
public struct ExportService: Sendable {
    let vault: CustomerVault

    /// Streams the customers the caller may read to `output`; returns how many.
    public func customers(format: FileFormat, pageSize: Int = 1_000, progress: (@Sendable (Int) -> Void)? = nil,
                          output: (Data) throws -> Void) async throws -> Int {
        try await vault.exportCustomers(format: format, pageSize: pageSize, progress: progress, output: output)
    }
    /// Streams one kind of record to `output`; returns how many.
    public func records(_ kind: RecordKind, format: FileFormat, pageSize: Int = 1_000, progress: (@Sendable (Int) -> Void)? = nil,
                        output: (Data) throws -> Void) async throws -> Int {
        try await vault.export(kind, format: format, pageSize: pageSize, progress: progress, output: output)
    }
    /// Writes every kind the caller may read into `directory` (new files, mode 0600).
    public func all(format: FileFormat, to directory: String, replace: Bool = false,
                    progress: (@Sendable (RecordKind, Int) -> Void)? = nil) async throws -> [RecordKind: Int] {
        try await vault.exportAll(format: format, to: directory, replace: replace, progress: progress)
    }
}
