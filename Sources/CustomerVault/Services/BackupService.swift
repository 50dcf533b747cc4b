/// Encrypted backups of this vault (see ``CustomerVault/backups``; inspecting, verifying with a
/// key file and restoring need no open vault: ``CustomerVault/restoreBackup(_:to:force:key:principal:credential:ledgers:progress:)``).
public struct BackupService: Sendable {
    let vault: CustomerVault

    /// Writes an encrypted, signed backup to a new file.
    public func create(to path: String, progress: (@Sendable (BackupProgress) -> Void)? = nil) async throws -> BackupReport {
        try await vault.createBackup(to: path, progress: progress)
    }
    /// Decrypts and checks a backup of this vault end to end, without restoring it.
    public func verify(_ path: String, progress: (@Sendable (BackupProgress) -> Void)? = nil) async throws -> BackupReport {
        try await vault.verifyBackup(path, progress: progress)
    }
    /// The key that opens a backup of this vault.
    public func key(for path: String) async throws -> BackupKey { try await vault.backupKey(for: path) }
    /// Writes the vault's backup key to a new 0600 file (the recovery key to keep offline).
    public func exportKey(to path: String) async throws { try await vault.exportBackupKey(to: path) }
}
