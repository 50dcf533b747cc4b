import Foundation
import GRDB

extension CustomerVault {
    var codec: RecordCodec { RecordCodec(schema: schema, keyring: keyring, vaultID: vaultIDBytes) }

    /// Validates values for an entity, turning a field problem into an input error.
    func validate(_ values: [String: String], entity: Entity, requireAll: Bool = true) throws -> [String: String] {
        do {
            return try validator.validateRecord(values, entity: entity, requireAll: requireAll)
        } catch {
            throw VaultError.invalidInput(error.description)
        }
    }

    func personalFieldNames(_ names: some Sequence<String>, entity: Entity) -> [String] {
        names.filter { schema.field(entity, $0)?.isPersonal == true }.map { KeyScope.fieldName(entity, $0) }.sorted()
    }

    // MARK: - Customers

    /// Adds a customer and returns its id.
    ///
    /// - Parameter values: Field values by schema name; empty strings count as absent.
    /// - Throws: ``VaultError`` `.invalidInput` naming the field, `.conflict` for a duplicate e-mail,
    ///   `.accessDenied` when the policy refuses.
    public func addCustomer(_ values: [String: String]) async throws -> Int64 {
        let canonical = try validate(values, entity: .customers)
        let fields = personalFieldNames(canonical.keys, entity: .customers)
        return try await perform(AccessRequest(.customerCreate, fields: fields)) { [codec, validator] db, note in
            let id = try Self.insertCustomer(canonical, codec: codec, today: validator.today, db: db)
            note.target = "customers:\(id)"
            return id
        }
    }

    static func insertCustomer(_ values: [String: String], codec: RecordCodec, today: String, now: String = Timestamps.now(),
                               db: Database) throws -> Int64 {
        let record = try codec.prepare(values, entity: .customers, recordID: try RecordCodec.nextRecordID(.customers, db: db), today: today)
        try codec.checkUnique(record.digests, except: nil, db: db)
        try codec.store(record, entity: .customers, customerID: nil, now: now, db: db)
        return record.id
    }

    /// Returns one customer.
    ///
    /// - Throws: ``VaultError`` `.notFound`, `.integrity` when a stored value fails authentication.
    public func customer(_ id: Int64) async throws -> CustomerRecord {
        let fields = personalFieldNames(schema.fields(of: .customers).map(\.name), entity: .customers)
        return try await perform(AccessRequest(.customerRead, fields: fields)) { [codec] db, note in
            note.target = "customers:\(id)"
            guard let record = try Self.loadCustomer(id, codec: codec, db: db) else {
                throw VaultError.notFound("no customer \(id)")
            }
            return record
        }
    }

    static func loadCustomer(_ id: Int64, codec: RecordCodec, db: Database) throws -> CustomerRecord? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT created_at, updated_at, attributes FROM customers WHERE id = ?"), arguments: [id]) else {
            return nil
        }
        var fields = try RecordCodec.decodeAttributes(row["attributes"], entity: .customers, id: id)
        fields.merge(try codec.readSealed(entity: .customers, recordID: id, db: db)) { _, sealed in sealed }
        return CustomerRecord(id: id, fields: fields, createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    /// Finds customers whose searchable `field` equals `value` after normalisation.
    ///
    /// Candidates come from the blind index (which may collide by design) and are confirmed after
    /// decryption, so results never contain false positives.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` for a field without search or a malformed value.
    public func findCustomers(field name: String, equalTo value: String) async throws -> [CustomerRecord] {
        try await findCustomers(field: name, anyOf: [value])[value] ?? []
    }

    /// Looks up many values of one searchable field in one audited transaction (for
    /// reconciliation jobs). Returns the matches of each value given.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` naming the first malformed value by position.
    public func findCustomers(field name: String, anyOf values: [String]) async throws -> [String: [CustomerRecord]] {
        guard let field = schema.field(.customers, name), let search = field.search else {
            let searchable = schema.searchableFields.map(\.name).joined(separator: ", ")
            throw VaultError.invalidInput("customers cannot be searched by \(name) (searchable: \(searchable))")
        }
        guard values.count <= 100_000 else { throw VaultError.invalidInput("at most 100000 values per lookup") }
        let keys = keyring.allVersions(field: KeyScope.fieldName(.customers, name), purpose: .index)
        guard !keys.isEmpty else { throw VaultError.accessDenied("access denied: no search key for customers.\(name)") }
        let country = schema.phoneDefaultCountryCode
        var queries: [(value: String, form: String, digests: [(version: UInt32, digest: [UInt8])])] = []
        for (position, value) in values.enumerated() {
            guard let form = Normalization.searchForm(value, as: search.normalization, defaultCountryCode: country) else {
                throw VaultError.invalidInput("\(name): search value \(position + 1) is not a valid \(search.normalization.rawValue)")
            }
            queries.append((value, form, try keys.map { (version: $0.version, digest: try BlindIndex.digest(form, key: $0.key, bits: search.indexBits)) }))
        }
        let fields = personalFieldNames(schema.fields(of: .customers).map(\.name), entity: .customers)
        let lookups = queries
        return try await perform(AccessRequest(.customerSearch, fields: fields)) { [codec] db, note in
            let table = field.unique ? "unique_indexes" : "blind_indexes"
            let statement = try db.cachedStatement(sql: "SELECT customer_id FROM \(table) WHERE field = ? AND key_version = ? AND digest = ?")
            var results: [String: [CustomerRecord]] = [:]
            var loaded: [Int64: CustomerRecord] = [:]
            var candidateCount = 0
            for query in lookups {
                var candidates = Set<Int64>()
                for entry in query.digests {
                    candidates.formUnion(try Int64.fetchAll(statement, arguments: [name, entry.version, Data(entry.digest)]))
                }
                candidateCount += candidates.count
                results[query.value, default: []] += try candidates.sorted().compactMap { id -> CustomerRecord? in
                    if loaded[id] == nil { loaded[id] = try Self.loadCustomer(id, codec: codec, db: db) }
                    guard let record = loaded[id], let stored = record.fields[name],
                          Normalization.searchForm(stored, as: search.normalization, defaultCountryCode: country) == query.form else {
                        return nil
                    }
                    return record
                }
            }
            let matched = Set(results.values.joined().map(\.id)).sorted()
            note.target = try AuditTrail.bulkTarget(entity: .customers, ids: matched)
            note.detail = "search by \(name): \(lookups.count) values, \(candidateCount) candidates, \(matched.count) matches"
            return results
        }
    }

    /// Lists customers in id order, `limit` at a time, starting after `after`.
    public func listCustomers(limit: Int = 50, after: Int64 = 0) async throws -> [CustomerRecord] {
        guard (1...10_000).contains(limit) else { throw VaultError.invalidInput("limit must be between 1 and 10000") }
        let fields = personalFieldNames(schema.fields(of: .customers).map(\.name), entity: .customers)
        return try await perform(AccessRequest(.customerList, fields: fields)) { [codec] db, note in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit])
            note.target = try AuditTrail.bulkTarget(entity: .customers, ids: ids)
            return try ids.compactMap { try Self.loadCustomer($0, codec: codec, db: db) }
        }
    }

    /// Changes or removes fields of a customer.
    ///
    /// - Parameters:
    ///   - set: New values by field name.
    ///   - remove: Fields to clear; required fields cannot be cleared.
    public func updateCustomer(_ id: Int64, set values: [String: String], remove: [String] = []) async throws {
        guard !values.isEmpty || !remove.isEmpty else { throw VaultError.invalidInput("nothing to update") }
        let canonical = try validate(values, entity: .customers, requireAll: false)
        for name in remove {
            guard let field = schema.field(.customers, name) else {
                throw VaultError.invalidInput("\(name): is not a field of customers in the schema")
            }
            guard !field.required else { throw VaultError.invalidInput("\(name): is required and cannot be removed") }
        }
        let fields = personalFieldNames(Array(values.keys) + remove, entity: .customers)
        try await perform(AccessRequest(.customerUpdate, fields: fields)) { [codec, validator, schema] db, note in
            note.target = "customers:\(id)"
            guard let current = try Self.loadCustomer(id, codec: codec, db: db) else { throw VaultError.notFound("no customer \(id)") }
            var merged = current.fields
            for name in remove { merged[name] = nil }
            merged.merge(canonical) { _, new in new }
            let digests = try codec.indexDigests(canonical)
            try codec.checkUnique(digests, except: id, db: db)
            try db.execute(sql: "UPDATE customers SET updated_at = ?, attributes = ? WHERE id = ?",
                           arguments: [Timestamps.now(), try codec.plainAttributes(merged, entity: .customers, today: validator.today), id])
            try codec.writeSealed(canonical, entity: .customers, recordID: id, db: db)
            try codec.writeIndexes(digests, customerID: id, replacing: true, db: db)
            for name in remove where schema.field(.customers, name)?.isPersonal == true {
                try db.execute(sql: "DELETE FROM sealed_values WHERE entity = 'customers' AND record_id = ? AND field = ?", arguments: [id, name])
                try db.execute(sql: "DELETE FROM blind_indexes WHERE customer_id = ? AND field = ?", arguments: [id, name])
                try db.execute(sql: "DELETE FROM unique_indexes WHERE customer_id = ? AND field = ?", arguments: [id, name])
            }
        }
    }

    /// Deletes a customer with its transactions, interactions, behaviour counters and indexes.
    public func deleteCustomer(_ id: Int64) async throws {
        let fields = personalFieldNames(schema.fields(of: .customers).map(\.name), entity: .customers)
        try await perform(AccessRequest(.customerDelete, fields: fields)) { db, note in
            note.target = "customers:\(id)"
            try db.execute(sql: "DELETE FROM customers WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { throw VaultError.notFound("no customer \(id)") }
        }
    }

    /// Number of customers (no personal data; counts are not secret from the file's holder either).
    public func customerCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers") ?? 0 }
    }
}
