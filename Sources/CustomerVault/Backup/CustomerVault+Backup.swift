import Foundation
import VaultSQLite
import VaultCrypto
import VaultCore
import VaultStore

/// What a restore did.
public struct RestoreReport: Sendable, Equatable, Codable {
    public var backup: BackupReport
    public var restoredTo: String
    /// Entries of the restored access log, all verified (the restore's own entry included).
    public var auditEntries: Int64
    /// Customers erased after the backup was taken, erased again from the ledger.
    public var erasuresReapplied: Int
    public var replacedExisting: Bool
}

extension CustomerVault {
    /// Writes an encrypted backup of the whole vault to `path` (action `vault.backup`).
    ///
    /// A consistent snapshot (SQLite's online backup API on a reader: writers go on) is streamed into one
    /// file sealed to the vault's backup public key, so a role allowed only `vault.backup` makes
    /// backups it cannot open. The file appears at `path` only once complete and synced. The
    /// access log records the start (inside the snapshot) and the result.
    ///
    /// - Throws: ``VaultError`` `.conflict` when `path` exists, `.accessDenied`, `.io`.
    func createBackup(to path: String, progress: (@Sendable (BackupProgress) -> Void)? = nil) async throws -> BackupReport {
        try await createBackup(to: path, chunkSize: BackupFormat.chunkSize, progress: progress)
    }

    /// ``createBackup(to:progress:)`` with another chunk size (tests use small chunks to get many).
    func createBackup(to path: String, chunkSize: Int, progress: (@Sendable (BackupProgress) -> Void)?) async throws -> BackupReport {
        let request = AccessRequest(.backup)
        let decision = try await requireAllowed(request)
        guard !FileManager.default.fileExists(atPath: path) else {
            throw VaultError.conflict("\(path) already exists; choose a new file name (backups never overwrite)")
        }
        if keyring.isCustodian { try await ensureBackupKey() }
        let name = (path as NSString).lastPathComponent
        let recipient = try await perform(request) { [vaultIDBytes] tx, note in
            note.target = "backup:\(name)"
            note.detail = "backup started"
            return try Self.backupRecipient(note.codec.keyring, vaultID: vaultIDBytes)
        }
        // Every backup is accompanied by a complete sidecar ledger (a killed erasure may lack its line).
        try? await syncErasureSidecar(allowedBy: decision)
        // The snapshot is a plain SQLite copy of the vault (values sealed, plain attributes and the
        // log not): it lives beside the vault, under the vault's own protection, never beside the
        // backup, and one left by a killed run is swept by the next.
        Self.removeStaleSnapshots(of: self.path)
        let snapshot = self.path + Self.snapshotMarker + "\(getpid())-" + Hex.encode(SecureRandom.bytes(4))
        defer { for suffix in ["", "-journal"] { try? FileManager.default.removeItem(atPath: snapshot + suffix) } }
        let report: BackupReport
        do {
            // The snapshot is the vault file's own format (values sealed); keep it private.
            try OutputFile(creating: snapshot).syncAndClose()
            try await snapshotAllowed(by: decision, to: snapshot)
            let createdAt = Date()
            report = try await Task.detached {
                try BackupStream.write(snapshot: snapshot, to: path, recipient: recipient, createdAt: createdAt, chunkSize: chunkSize, progress: progress)
            }.value
        } catch {
            throw await recordFailure(request, error)
        }
        try await perform(request) { _, note in
            note.target = "backup:\(name)"
            note.detail = "backup written: \(report.chunks) chunks, \(report.bytes) bytes, key \(report.header.keyID) v\(report.header.keyVersion)"
        }
        return report
    }

    /// Checks every chunk and the final tag of a backup of this vault with the backup key this
    /// principal holds (action `vault.restore`; key custodians hold the key). Logged either way.
    ///
    /// - Throws: ``VaultError`` `.integrity` naming the first bad chunk, `.badCredential` for a
    ///   backup sealed to another key or vault, `.unsupported` for a newer format.
    func verifyBackup(_ path: String, progress: (@Sendable (BackupProgress) -> Void)? = nil) async throws -> BackupReport {
        let request = AccessRequest(.restore)
        let key = try await backupKey(for: path)
        let name = (path as NSString).lastPathComponent
        let report: BackupReport
        do {
            report = try await Task.detached { try BackupStream.read(path, key: key, sink: nil, progress: progress) }.value
        } catch {
            throw await recordFailure(request, error)
        }
        try await perform(request) { _, note in
            note.target = "backup:\(name)"
            note.detail = "backup verified: \(report.chunks) chunks, created \(report.header.createdAt)"
        }
        return report
    }

    /// The backup key that opens `path` (the version its header names), for a principal that holds
    /// it (action `vault.restore`). Use it with ``restoreBackup(_:to:force:key:principal:credential:progress:)``.
    func backupKey(for path: String) async throws -> BackupKey {
        try await requireAllowed(AccessRequest(.restore))
        let header = try Self.inspectBackup(path)
        let name = (path as NSString).lastPathComponent
        return try await perform(AccessRequest(.restore)) { [vaultIDBytes] _, note in
            note.target = "backup:\(name)"
            note.detail = "backup key v\(header.keyVersion) opened"
            guard header.vaultID == Hex.encode(vaultIDBytes) else {
                throw VaultError(.badCredential, "\(name) is a backup of vault \(header.vaultID), not of this vault (\(Hex.encode(vaultIDBytes)))")
            }
            guard let key = note.codec.keyring.key(KeyScope(field: KeyScope.vaultWide, purpose: .backup, version: header.keyVersion)) else {
                throw VaultError.accessDenied("access denied: this principal does not hold backup key v\(header.keyVersion) (key custodians do)")
            }
            return try BackupKey(vaultID: vaultIDBytes, version: header.keyVersion, key: key)
        }
    }

    /// Writes the current backup key to a new recovery key file (mode 0600) that opens every
    /// backup of this vault without it: keep it offline, apart from the backups (action
    /// `vault.restore`; key custodians only).
    func exportBackupKey(to path: String) async throws {
        if keyring.isCustodian { try await ensureBackupKey() }
        let name = (path as NSString).lastPathComponent
        let key = try await perform(AccessRequest(.restore)) { [vaultIDBytes] _, note in
            note.target = "backup-key:\(name)"
            note.detail = "backup key exported to a recovery key file"
            guard let (key, version) = note.codec.keyring.currentKey(field: KeyScope.vaultWide, purpose: .backup) else {
                throw VaultError.accessDenied("access denied: this principal does not hold the backup key (key custodians do)")
            }
            return try BackupKey(vaultID: vaultIDBytes, version: version, key: key)
        }
        var bytes = key.recoveryFileBytes()
        defer { wipe(&bytes) }
        let file = try OutputFile(creating: path)
        do {
            try file.write(bytes)
            try file.syncAndClose()
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    /// The public header of a backup file (no key needed; nothing in it is secret).
    public static func inspectBackup(_ path: String) throws -> BackupHeader {
        try BackupFormat.readHeader(BackupInput(path: path)).0.description
    }

    /// Checks every chunk and the final tag with a backup key from a recovery key file; no vault
    /// is opened, so nothing is logged (``verifyBackup(_:progress:)`` logs in the vault).
    public static func verifyBackup(_ path: String, key: BackupKey, progress: (@Sendable (BackupProgress) -> Void)? = nil) throws -> BackupReport {
        try BackupStream.read(path, key: key, sink: nil, progress: progress)
    }

    /// Restores a backup into a vault file at `target`.
    ///
    /// The snapshot is decrypted into a temporary file beside `target`, chunk by chunk; it is
    /// checked (every chunk and the final tag, SQLite `integrity_check`, the vault id, known schema
    /// migrations, the whole audit chain), opened as `principal` with its existing credential,
    /// which the restored policy must allow `vault.restore`, and the restore is logged in it. Only
    /// then is it renamed to `target`. On any failure nothing is left behind and `target` is
    /// untouched.
    ///
    /// - Parameters:
    ///   - force: Replace an existing vault at `target` (its `-wal` and `-shm` files are removed).
    ///     Stop every process using it first.
    ///   - ledgers: Erasure ledger files (`VAULT.erasures`) to re-apply besides those found
    ///     automatically: the sidecar of `target` and the ledger inside the vault it replaces.
    ///     Any erasure the backup predates is applied again before the restore is put in place.
    /// - Throws: ``VaultError`` `.conflict` when `target` exists without `force`, `.integrity`,
    ///   `.badCredential` (wrong backup key, or the credential does not unlock `principal`),
    ///   `.unsupported` for a newer format, `.accessDenied`.
    public static func restoreBackup(_ path: String, to target: String, force: Bool = false, key: BackupKey, principal: String,
                                     credential: Credential, ledgers: [String] = [],
                                     progress: (@Sendable (BackupProgress) -> Void)? = nil) async throws -> RestoreReport {
        let exists = FileManager.default.fileExists(atPath: target)
        guard !exists || force else {
            throw VaultError.conflict("\(target) already exists", remedy: .replaceExisting)
        }
        // Erasures the backup may predate: fail closed if a ledger that exists cannot be read.
        var erasures: [LedgerLine] = []
        for file in [ErasureLedger.sidecar(of: target)] + ledgers {
            erasures += try ErasureLedger.read(sidecar: file)
        }
        if exists {
            do {
                let old = try SQLiteStore.inspect(path: target)
                defer { try? old.close() }
                erasures += try await old.read { tx in
                    try ErasureLedger.entries(tx, vaultID: Hex.encode(key.vaultID)).map { LedgerLine(entry: $0, place: "the ledger inside \(target)") }
                }
            } catch {
                guard FileManager.default.fileExists(atPath: ErasureLedger.sidecar(of: target)) || !ledgers.isEmpty else {
                    throw VaultError.integrity("cannot read the erasure ledger of the vault at \(target), which the restore would replace", remedy: .giveLedger(path: ErasureLedger.sidecar(of: target)))
                }
            }
        }
        let temporary = target + ".restoring"
        func removeTemporary() {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) }
        }
        removeTemporary()  // left by a restore that was killed
        defer { removeTemporary() }
        let sink = try OutputFile(creating: temporary)
        let report = try await Task.detached { try BackupStream.read(path, key: key, sink: sink, progress: progress) }.value
        // Beside SQLite's integrity check: the file's fsync, then the audit chain's verification
        // (it reads only the log and the vault's metadata, and opens the file once it is synced);
        // and the restoring principal's key derivation (Argon2id for a passphrase, pure
        // computation). A failed integrity check is reported before anything the others found; a
        // failed derivation is left to `open` below, which derives again and reports it as usual.
        let synced = Task.detached { try sink.syncAndClose() }
        let parameters = await storedParameters(of: principal, in: temporary)
        let derivation = Task.detached { parameters.flatMap { parameters in
            (try? parameters.deriveKEK(from: credential, principal: principal)).map { (parameters: parameters, kek: $0) }
        } }
        defer { derivation.cancel() }
        let verification = Task.detached {
            try await synced.value
            return try await verifyAuditLog(at: temporary)
        }
        do {
            try await Task.detached { try SQLiteStore.checkRestored(path: temporary, vaultID: key.vaultID) }.value
        } catch {
            _ = try? await verification.value
            throw error
        }
        let verified = try await verification.value
        let restored = try await open(at: temporary, principal: principal, credential: credential, derived: await derivation.value)
        let reapplied: Int
        do {
            reapplied = try await restored.perform(AccessRequest(.restore)) { [erasures, restored] tx, note in
                note.target = "vault:\(Hex.encode(key.vaultID))"
                let count = try reapplyErasures(erasures, vaultID: key.vaultID, rootPublicKey: restored.secrets.rootSigningPublicKey,
                                                policy: restored.policy, integrity: try note.codec.integrity, in: tx)
                note.detail = "restored from backup \((path as NSString).lastPathComponent) created \(report.header.createdAt); "
                    + "\(count) erasures re-applied from the ledger"
                return count
            }
            try await restored.checkpoint()
            try restored.close()
        } catch {
            try? restored.close()
            throw error
        }
        // The chain was verified above; the restore appended one entry to it.
        let entries = verified.entries + 1
        if exists {
            // Fold the replaced vault's WAL into its file first, so a kill before the rename
            // leaves it whole; a replaced vault too damaged to checkpoint is replaced as it is.
            await SQLiteStore.foldLog(path: target)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: target + suffix) }
        }
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) }
        guard rename(temporary, target) == 0 else {
            throw VaultError.io("cannot move the restored vault into place at \(target): \(String(cString: strerror(errno)))")
        }
        OutputFile.syncDirectory(of: target)
        try await rewriteSidecar(of: target, vaultID: Hex.encode(key.vaultID))
        return RestoreReport(backup: report, restoredTo: target, auditEntries: entries, erasuresReapplied: reapplied, replacedExisting: exists)
    }

    /// How `principal`'s credential is stretched, as stored in the vault file at `path`; nil when
    /// it cannot be read (the checks that follow say why).
    private static func storedParameters(of principal: String, in path: String) async -> CredentialParameters? {
        guard let store = try? SQLiteStore.inspect(path: path) else { return nil }
        defer { try? store.close() }
        return try? await store.read { tx in try tx.requirePrincipal(named: principal).parameters }
    }

    static let snapshotMarker = ".backup-snapshot-"

    /// Deletes snapshots beside the vault left by backup runs whose process is gone (killed).
    static func removeStaleSnapshots(of vaultPath: String) {
        let directory = (vaultPath as NSString).deletingLastPathComponent
        let prefix = (vaultPath as NSString).lastPathComponent + snapshotMarker
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }) else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            }
        }
    }

    /// Makes the sidecar ledger beside a restored vault equal to the ledger inside it.
    private static func rewriteSidecar(of vaultPath: String, vaultID: String) async throws {
        let store = try SQLiteStore.inspect(path: vaultPath)
        let entries = try await store.read { tx in try ErasureLedger.entries(tx, vaultID: vaultID) }
        try store.close()
        try rewriteSidecar(of: vaultPath, entries: entries)
    }

    /// Replaces the sidecar ledger of the vault at `vaultPath` by `entries`, atomically.
    static func rewriteSidecar(of vaultPath: String, entries: [ErasureLedgerEntry]) throws {
        let sidecar = ErasureLedger.sidecar(of: vaultPath)
        guard !entries.isEmpty || FileManager.default.fileExists(atPath: sidecar) else { return }
        let fresh = sidecar + ".new"
        try? FileManager.default.removeItem(atPath: fresh)
        try ErasureLedger.append(entries, toSidecar: fresh)
        if entries.isEmpty { try OutputFile(creating: fresh).syncAndClose() }
        guard rename(fresh, sidecar) == 0 else { throw VaultError.io("cannot update the erasure ledger \(sidecar)") }
    }

    /// The backup public key as this principal's keyring holds it: granted as such (`vault.backup`)
    /// or derived from the backup key (custodians).
    static func backupRecipient(_ keyring: Keyring, vaultID: [UInt8]) throws -> BackupRecipient {
        if let (key, version) = keyring.currentKey(field: KeyScope.vaultWide, purpose: .backup) {
            return BackupRecipient(vaultID: vaultID, version: version, publicKey: try WriteKeyPair.derive(from: key).publicKey)
        }
        if let (key, version) = keyring.currentKey(field: KeyScope.vaultWide, purpose: .backupPublic) {
            return BackupRecipient(vaultID: vaultID, version: version, publicKey: key.withUnsafeBytes { Array($0) })
        }
        throw VaultError.accessDenied("access denied: this principal holds no backup key; a key custodian must apply the policy again "
            + "(vaults made before backups existed get their backup key at a custodian's first backup)", remedy: .applyPolicy)
    }

    /// Creates the vault's backup key if it has none (vaults made before backups existed), and
    /// grants it (and its public half) to every principal whose role needs them.
    private func ensureBackupKey() async throws {
        guard !keyring.existingScopes.contains(where: { $0.field == KeyScope.vaultWide && $0.purpose == .backup }) else { return }
        var all: [KeyScope: SecretBytes] = [:]
        for scope in keyring.scopes { all[scope] = keyring.key(scope) }
        let fresh = try SecretBytes(randomCount: 32)
        all[BackupKey.scope] = fresh
        let provisioner = try KeyProvisioner(vaultID: vaultIDBytes, schema: schema, custodian: Keyring(keys: all, existingScopes: []))
        try await perform(AccessRequest(.principalsManage)) { [policy] tx, note in
            note.target = "keys:vault/backup"
            guard !(try tx.dataKeys()).contains(where: { $0.scope.field == KeyScope.vaultWide && $0.scope.purpose == .backup }) else {
                note.detail = "backup key already created by another process"
                return
            }
            try KeyProvisioner.recordKeys([BackupKey.scope: fresh], integrity: try note.codec.integrity, in: tx, now: Timestamps.now())
            var granted = 0
            for record in try tx.principals() {
                granted += try provisioner.provision(record, role: policy.role(record.role), in: tx).added
            }
            note.detail = "backup key created: \(granted) grants"
        }
    }
}

extension Keyring {
    /// Whether this keyring holds the root signing key, that is, belongs to a key custodian.
    var isCustodian: Bool { key(KeyScope(field: KeyScope.vaultWide, purpose: .root, version: 1)) != nil }
}
