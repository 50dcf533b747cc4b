/// The vault's public face by concern: each service is a view of one unlocked handle and shares
/// its gate, so every call that touches customer data passes the one decision point and the one
/// access-log append (the implementations live beside their concern, in `CustomerVault+*.swift`,
/// and are internal to the library).
///
/// ```swift
/// let vault = try await CustomerVault.open(at: "crm.vault", principal: "support", credential: .keyFile(key))
/// let ada = try await vault.customers.find(field: "email", equalTo: "ada@example.com")
/// let orders = try await vault.history.records(.transactions, customerID: ada[0].id)
/// ```
extension CustomerVault {
    /// Customer records: add, read, search, list, update, delete.
    public var customers: CustomerService { CustomerService(vault: self) }
    /// Transactions, interactions and behaviour counters of a customer.
    public var history: HistoryService { HistoryService(vault: self) }
    /// CSV and JSON Lines imports.
    public var imports: ImportService { ImportService(vault: self) }
    /// Exports in the caller's views.
    public var exports: ExportService { ExportService(vault: self) }
    /// Aggregates without personal values.
    public var reports: ReportService { ReportService(vault: self) }
    /// Field keys: status, rotation, retirement.
    public var keys: KeyService { KeyService(vault: self) }
    /// Principals, their credentials and the policy that grants them keys.
    public var principals: PrincipalService { PrincipalService(vault: self) }
    /// The access log.
    public var audit: AuditService { AuditService(vault: self) }
    /// Encrypted backups of this vault.
    public var backups: BackupService { BackupService(vault: self) }
    /// Data-subject rights: erasure, subject export, retention, duplicates.
    public var privacy: PrivacyService { PrivacyService(vault: self) }
    /// The whole-vault integrity check.
    public var integrity: IntegrityService { IntegrityService(vault: self) }
}
