/// Customer records in the caller's views (see ``CustomerVault/customers``).
public struct CustomerService: Sendable {
    let vault: CustomerVault

    /// Adds a customer and returns its id; values are validated, normalised and sealed per field.
    public func add(_ values: [String: String]) async throws -> Int64 { try await vault.addCustomer(values) }
    /// One customer in the caller's views. - Throws: `.notFound`, `.accessDenied`.
    public func get(_ id: Int64) async throws -> CustomerRecord { try await vault.customer(id) }
    /// Customers whose searchable `field` equals `value` (after normalisation), through its blind index.
    public func find(field: String, equalTo value: String) async throws -> [CustomerRecord] {
        try await vault.findCustomers(field: field, equalTo: value)
    }
    /// Many lookups in one decision and one access-log entry, keyed by the value as given.
    public func find(field: String, anyOf values: [String], country: String? = nil) async throws -> [String: [CustomerRecord]] {
        try await vault.findCustomers(field: field, anyOf: values, country: country)
    }
    /// A page of customers after id `after`, in id order.
    public func list(limit: Int = 50, after: Int64 = 0) async throws -> [CustomerRecord] {
        try await vault.listCustomers(limit: limit, after: after)
    }
    /// Sets and removes fields of one customer.
    public func update(_ id: Int64, set values: [String: String], remove: [String] = []) async throws {
        try await vault.updateCustomer(id, set: values, remove: remove)
    }
    /// Deletes a customer with its history (erasure with a ledger entry is ``PrivacyService/erase(_:)``).
    public func delete(_ id: Int64) async throws { try await vault.deleteCustomer(id) }
    /// How many customers the caller's row conditions admit.
    public func count() async throws -> Int { try await vault.customerCount() }
}
