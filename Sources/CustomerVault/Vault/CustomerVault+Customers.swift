import Foundation
import VaultCore
import VaultStore

extension CustomerVault {
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

    /// Every schema field among `names`, personal or plain, qualified: what a write touches (each
    /// needs a write grant under a format-2 policy, and each is listed in the access-log entry).
    func writtenFieldNames(_ names: some Sequence<String>, entity: Entity) -> [String] {
        Set(names.filter { schema.field(entity, $0) != nil }).map { KeyScope.fieldName(entity, $0) }.sorted()
    }

    // MARK: - Customers

    /// Adds a customer and returns its id.
    ///
    /// - Parameter values: Field values by schema name; empty strings count as absent.
    /// - Throws: ``VaultError`` `.invalidInput` naming the field, `.conflict` for a duplicate e-mail,
    ///   `.accessDenied` when the policy refuses (a field the role may not write, or a customer
    ///   outside the role's row conditions).
    func addCustomer(_ values: [String: String]) async throws -> Int64 {
        let canonical = try validate(values, entity: .customers)
        let request = AccessRequest(.customerCreate, writes: writtenFieldNames(canonical.keys, entity: .customers))
        return try await perform(request) { [validator] tx, note in
            try Self.checkRowConditions(canonical, note: note)
            let id = try Self.insertCustomer(canonical, codec: note.codec, today: validator.today, in: tx)
            note.target = "customers:\(id)"
            return id
        }
    }

    /// Refuses to create or change a customer into one the role could not see.
    static func checkRowConditions(_ values: [String: String], note: AuditNote) throws {
        guard !note.admits(customerAttributes: values) else { return }
        let conditions = note.decision.rows.conditions.map(\.description).joined(separator: " and ")
        throw VaultError.accessDenied("access denied: the customer would be outside the rows this role may access (\(conditions))")
    }

    static func insertCustomer(_ values: [String: String], codec: RecordCodec, today: String, now: String = Timestamps.now(),
                               in tx: some StoreWriting) throws -> Int64 {
        let record = try codec.prepare(values, entity: .customers, recordID: try tx.nextRecordID(.customers), today: today, now: now)
        try codec.checkUnique(record.probes, except: nil, in: tx)
        try NaturalKeys.refuseHeld(.customers, values: values, schema: codec.schema, integrity: try codec.integrity, in: tx)
        try codec.store(record, entity: .customers, customerID: nil, now: now, in: tx)
        try NaturalKeys.insert(.customers, recordID: record.id, values: values, schema: codec.schema, in: tx)
        return record.id
    }

    /// Returns one customer, in the views the policy grants (masked fields are listed in `masked`).
    ///
    /// - Throws: ``VaultError`` `.notFound` (also for a customer outside the role's row conditions),
    ///   `.integrity` when a stored value fails authentication.
    func customer(_ id: Int64) async throws -> CustomerRecord {
        try await perform(AccessRequest(.customerRead)) { tx, note in
            note.target = "customers:\(id)"
            guard let record = try Self.loadCustomer(id, note: note, in: tx) else { throw VaultError.notFound("no customer \(id)") }
            return record
        }
    }

    /// Plain attributes of a customer the decision admits, with its verified row; nil when absent,
    /// erased or outside its rows.
    static func visibleAttributes(_ id: Int64, note: AuditNote, in tx: some StoreReading) throws -> (attributes: [String: String], row: CustomerRow)? {
        guard let row = try tx.customerRow(id: id) else { return nil }
        try row.verify(try note.codec.integrity)
        guard row.erasedAt == nil else { return nil }
        let attributes = try row.decodedAttributes()
        return note.admits(customerAttributes: attributes) ? (attributes, row) : nil
    }

    /// A customer the decision admits, opened in its views; nil when absent, erased or outside its
    /// rows. `entries` are the index entries that named it, which its row must commit to.
    static func loadCustomer(_ id: Int64, note: AuditNote, indexedBy entries: [(field: FieldSchema, version: UInt32, digest: [UInt8])] = [],
                             in tx: some StoreReading) throws -> CustomerRecord? {
        guard let row = try tx.customerRow(id: id) else {
            guard entries.isEmpty else { throw VaultError.integrity("an index entry names customer \(id), which does not exist") }
            return nil
        }
        try row.verify(try note.codec.integrity)
        for entry in entries { try RecordCodec.checkIndexed(entry, by: row) }
        guard row.erasedAt == nil else { return nil }
        let attributes = try row.decodedAttributes()
        guard note.admits(customerAttributes: attributes) else { return nil }
        let opened = try note.codec.readSealed(entity: .customers, recordID: id, expectedDigest: row.sealedDigest, in: tx)
        return CustomerRecord(id: id, fields: attributes.merging(opened.values) { _, sealed in sealed }, masked: opened.masked.sorted(),
                              createdAt: row.createdAt, updatedAt: row.updatedAt)
    }

    /// Finds customers whose searchable `field` equals `value` after normalisation.
    ///
    /// Candidates come from the blind index (which may collide by design) and are confirmed after
    /// decryption, so results never contain false positives.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` for a field without search or a malformed value.
    func findCustomers(field name: String, equalTo value: String) async throws -> [CustomerRecord] {
        try await findCustomers(field: name, anyOf: [value])[value] ?? []
    }

    /// An access-log entry holds at most this many search-term digests, so a batch lookup is one
    /// audited transaction per this many values: every value looked up has its digest in the log.
    static let termsPerEntry = 1_000

    /// Looks up many values of one searchable field (for reconciliation jobs and scripts), in one
    /// audited transaction per ``termsPerEntry`` values. Returns the matches of each value given.
    ///
    /// - Parameter country: The country national phone numbers among `values` are read in (ISO
    ///   3166: `GB`, `DEU`, `France`); nil for the schema's `default_country`.
    /// - Throws: ``VaultError`` `.invalidInput` naming the first malformed value by position
    ///   (before anything is looked up).
    func findCustomers(field name: String, anyOf values: [String], country countryName: String? = nil) async throws -> [String: [CustomerRecord]] {
        guard let field = schema.field(.customers, name), let search = field.search else {
            let searchable = schema.searchableFields.map(\.name).joined(separator: ", ")
            throw VaultError.invalidInput("customers cannot be searched by \(name) (searchable: \(searchable))")
        }
        guard values.count <= 100_000 else { throw VaultError.invalidInput("at most 100000 values per lookup") }
        var country = schema.defaultPhoneCountry
        if let countryName {
            guard let named = Countries.lookup(countryName), !named.callingCode.isEmpty else {
                throw VaultError.invalidInput("country '\(countryName)' is not an ISO 3166 country with a calling code (write it as GB, DE, US, …)")
            }
            country = named
        }
        var forms: [(value: String, form: String, probes: [String])] = []
        var seen = Set<String>()
        for (position, value) in values.enumerated() {
            guard let form = Normalization.searchForm(value, as: search.normalization, country: country) else {
                if search.normalization == .phone, Normalization.readPhone(value, country: country) == .needsCountry {
                    throw VaultError.invalidInput("\(name): search value \(position + 1) is a national number and no country says how to read it; "
                        + "write it in international form (+44 20 7946 0123) or give its country")
                }
                throw VaultError.invalidInput("\(name): search value \(position + 1) is not a valid \(search.normalization.rawValue)")
            }
            // A value given twice is looked up once (its matches would otherwise be listed twice).
            if seen.insert(value).inserted { forms.append((value, form, search.normalization == .name ? Normalization.probeForms(value, as: .name) : [form])) }
        }
        var results: [String: [CustomerRecord]] = [:]
        for start in stride(from: 0, to: forms.count, by: Self.termsPerEntry) {
            let chunk = Array(forms[start..<min(start + Self.termsPerEntry, forms.count)])
            results.merge(try await findChunk(field, search: search, queries: chunk, country: country)) { _, new in new }
        }
        return results
    }

    /// One audited transaction of a lookup: at most ``termsPerEntry`` distinct values.
    private func findChunk(_ field: FieldSchema, search: FieldSchema.Search, queries: [(value: String, form: String, probes: [String])],
                           country: Country?) async throws -> [String: [CustomerRecord]] {
        let name = field.name
        let request = AccessRequest(.customerSearch, searchField: KeyScope.fieldName(.customers, name))
        return try await perform(request) { tx, note in
            let keyring = note.codec.keyring
            let keys = keyring.allVersions(field: KeyScope.fieldName(.customers, name), purpose: .index)
            guard !keys.isEmpty else { throw VaultError.accessDenied("access denied: this principal holds no search key for customers.\(name)") }
            var results: [String: [CustomerRecord]] = [:]
            var loaded: [Int64: CustomerRecord?] = [:]
            for query in queries {
                // Each candidate with the entries that named it, checked against what its record commits to.
                var candidates: [Int64: [(field: FieldSchema, version: UInt32, digest: [UInt8])]] = [:]
                for key in keys {
                    for probe in query.probes {
                        let entry = (field: field, version: key.version, digest: try BlindIndex.digest(probe, key: key.key, bits: search.indexBits))
                        for holder in try note.codec.indexHolders(entry, in: tx) { candidates[holder, default: []].append(entry) }
                    }
                }
                results[query.value, default: []] += try candidates.keys.sorted().compactMap { id -> CustomerRecord? in
                    if loaded[id] == nil { loaded[id] = try Self.loadCustomer(id, note: note, indexedBy: candidates[id] ?? [], in: tx) }
                    guard let record = loaded[id] ?? nil, let stored = record.fields[name], !record.masked.contains(name),
                          Normalization.searchForm(stored, as: search.normalization, country: country) == query.form else {
                        return nil
                    }
                    return record
                }
            }
            let matched = Set(results.values.joined().map(\.id)).sorted()
            note.target = AuditChain.bulkTarget(entity: .customers, ids: matched)
            if let auditKey = keyring.currentKey(field: KeyScope.vaultWide, purpose: .audit)?.key {
                note.terms = try queries.prefix(Self.termsPerEntry).map { try AuditChain.termDigest(field: "customers.\(name)", form: $0.form, key: auditKey) }
            }
            // No candidate count: it would tell a row-restricted role about customers it cannot see.
            note.detail = "search by \(name): \(queries.count) values, \(matched.count) matches"
            return results
        }
    }

    /// Lists customers in id order, `limit` at a time, starting after `after`. Customers outside
    /// the role's row conditions are skipped as if absent.
    func listCustomers(limit: Int = 50, after: Int64 = 0) async throws -> [CustomerRecord] {
        guard (1...10_000).contains(limit) else { throw VaultError.invalidInput("limit must be between 1 and 10000") }
        return try await perform(AccessRequest(.customerList)) { tx, note in
            let records = try Self.visibleCustomers(after: after, limit: limit, note: note, in: tx)
            note.target = AuditChain.bulkTarget(entity: .customers, ids: records.map(\.id))
            return records
        }
    }

    /// The next `limit` customers after `after` that the decision admits, opened in its views.
    static func visibleCustomers(after: Int64, limit: Int, note: AuditNote, in tx: some StoreReading) throws -> [CustomerRecord] {
        var records: [CustomerRecord] = []
        var cursor = after
        while records.count < limit {
            let ids = try tx.customerIDs(after: cursor, limit: limit)
            guard let last = ids.last else { break }
            cursor = last
            for id in ids where records.count < limit {
                if let record = try loadCustomer(id, note: note, in: tx) { records.append(record) }
            }
        }
        return records
    }

    /// Changes or removes fields of a customer. Needs `write` on every personal field touched; it
    /// decrypts nothing, so a role may update fields it cannot read.
    ///
    /// - Parameters:
    ///   - set: New values by field name.
    ///   - remove: Fields to clear; required fields cannot be cleared.
    func updateCustomer(_ id: Int64, set values: [String: String], remove: [String] = []) async throws {
        guard !values.isEmpty || !remove.isEmpty else { throw VaultError.invalidInput("nothing to update") }
        let canonical = try validate(values, entity: .customers, requireAll: false)
        for name in remove {
            guard let field = schema.field(.customers, name) else {
                throw VaultError.invalidInput("\(name): is not a field of customers in the schema"
                    + Suggestion.didYouMean(name, among: schema.fields(of: .customers).map(\.name)))
            }
            guard !field.required else { throw VaultError.invalidInput("\(name): is required and cannot be removed") }
        }
        let request = AccessRequest(.customerUpdate, writes: writtenFieldNames(Array(values.keys) + remove, entity: .customers))
        try await perform(request) { [validator, schema] tx, note in
            note.target = "customers:\(id)"
            try Self.applyUpdate(id, canonical: canonical, remove: remove, note: note, today: validator.today, schema: schema, in: tx)
        }
    }

    /// Changes a visible customer's fields in the caller's transaction (``updateCustomer(_:set:remove:)``
    /// and import in upsert mode): every check first (row conditions, uniqueness), then the writes.
    ///
    /// - Parameter consentIDs: The batch's consent-event counter (import), so that ids it hands out
    ///   and ids this update takes never collide.
    static func applyUpdate(_ id: Int64, canonical: [String: String], remove: [String], note: AuditNote, today: String, schema: Schema,
                            consentIDs: ConsentEvents.Numbering? = nil, in tx: some StoreWriting) throws {
        guard let (current, row) = try Self.visibleAttributes(id, note: note, in: tx) else { throw VaultError.notFound("no customer \(id)") }
        // The values kept must be the ones the record commits to: re-tagging tampered ones would launder them.
        var entries = try SealedEntries.fetchVerified(.customers, recordID: id, expected: row.sealedDigest, in: tx)
        var attributes = current
        for name in remove where schema.field(.customers, name)?.isPersonal == false { attributes[name] = nil }
        let derived = try note.codec.plainAttributes(canonical, entity: .customers, today: today)
        attributes.merge(try RecordCodec.decodeAttributes(derived, entity: .customers, id: id)) { _, new in new }
        try Self.checkRowConditions(attributes, note: note)
        let indexes = note.codec.indexPlan()
        let digests = try note.codec.indexDigests(canonical, plan: indexes)
        try note.codec.checkUnique(note.codec.uniquenessProbes(canonical, current: digests, plan: indexes), except: id, in: tx)
        try NaturalKeys.replace(.customers, recordID: id, from: current, to: canonical, schema: schema, integrity: try note.codec.integrity, in: tx)
        let now = Timestamps.now()
        let sealed = try note.codec.seal(canonical, entity: .customers, recordID: id)
        let removed = Set(remove.filter { schema.field(.customers, $0)?.isPersonal == true })
        let replaced = removed.union(sealed.map(\.field))
        entries.removeAll { replaced.contains($0.field) }
        entries += sealed.map(\.entry)
        var updated = row
        updated.updatedAt = now
        updated.attributes = FlatJSON.encode(attributes)
        updated.sealedDigest = try RecordIntegrity.sealedDigest(entries, entity: .customers, recordID: id)
        for name in removed { updated.indexDigests[name] = nil }
        for entry in digests { updated.indexDigests[entry.field.name] = .init(version: entry.version, digest: entry.digest) }
        try updated.retag(try note.codec.integrity)
        try tx.update(updated)
        try ConsentEvents.recordChanges(customerID: id, from: current, to: attributes, at: now, integrity: try note.codec.integrity,
                                        numbering: consentIDs, in: tx)
        try note.codec.writeSealed(sealed, entity: .customers, recordID: id, in: tx)
        try note.codec.writeIndexes(digests, customerID: id, replacing: row.indexDigests, in: tx)
        for name in removed {
            try tx.deleteSealedEntry(.customers, recordID: id, field: name)
            try note.codec.removeIndex(field: name, committed: row.indexDigests, customerID: id, in: tx)
        }
    }

    /// Deletes a customer with its transactions, interactions, behaviour counters and indexes.
    func deleteCustomer(_ id: Int64) async throws {
        try await perform(AccessRequest(.customerDelete)) { tx, note in
            note.target = "customers:\(id)"
            guard try Self.visibleAttributes(id, note: note, in: tx) != nil else { throw VaultError.notFound("no customer \(id)") }
            try tx.deleteCustomer(id: id)
        }
    }
}
