import Foundation
import GRDB
import VaultCrypto

/// Turns validated values into stored rows and back: seals personal fields (full and masked
/// views), writes blind indexes, and opens what the principal's keyring allows.
struct RecordCodec: Sendable {
    let schema: Schema
    let keyring: Keyring
    let vaultID: [UInt8]

    /// The plain attributes a record keeps in clear, as JSON: plain schema fields plus, for
    /// customers, the derived `age_band`.
    func plainAttributes(_ values: [String: String], entity: Entity, today: String) throws -> String {
        var attributes: [String: String] = [:]
        for field in schema.fields(of: entity) where !field.isPersonal {
            if let value = values[field.name] { attributes[field.name] = value }
        }
        if entity == .customers {
            if let birth = values["birth_date"], let age = Timestamps.age(birthDay: birth, today: today) {
                attributes["age_band"] = Timestamps.ageBand(age)
            } else if let age = values["age"].flatMap(Int.init) {
                attributes["age_band"] = Timestamps.ageBand(age)
            }
        }
        return FlatJSON.encode(attributes)
    }

    /// Seals the personal values of one record: the full view and, where the schema masks the
    /// field, the masked view, each under its own key. Touches no database (safe to run in parallel).
    func seal(_ values: [String: String], entity: Entity, recordID: Int64) throws -> [SealedField] {
        try schema.personalFields(of: entity).compactMap { field in
            guard let value = values[field.name] else { return nil }
            let name = KeyScope.fieldName(entity, field.name)
            guard let (key, version) = keyring.currentKey(field: name, purpose: .seal) else {
                throw VaultError.accessDenied("principal holds no key to write \(name)")
            }
            let sealed = try FieldEnvelope.seal(value, key: key, keyVersion: version, vaultID: vaultID,
                                                slot: SealedSlot(entity: entity, field: field.name, recordID: recordID, view: .plain))
            var masked: [UInt8]?
            if let mask = field.mask {
                guard let maskKey = keyring.key(KeyScope(field: name, purpose: .mask, version: version)) else {
                    throw VaultError.accessDenied("principal holds no key to write the masked view of \(name)")
                }
                masked = try FieldEnvelope.seal(Masking.mask(value, as: mask), key: maskKey, keyVersion: version, vaultID: vaultID,
                                                slot: SealedSlot(entity: entity, field: field.name, recordID: recordID, view: .masked))
            }
            return SealedField(field: field.name, keyVersion: version, sealed: sealed, masked: masked)
        }
    }

    /// Stores sealed values, replacing earlier ones of the same fields.
    func writeSealed(_ fields: [SealedField], entity: Entity, recordID: Int64, db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO sealed_values (entity, record_id, field, key_version, sealed, masked) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for field in fields {
            try statement.execute(arguments: [entity.rawValue, recordID, field.field, field.keyVersion, Data(field.sealed),
                                              field.masked.map { Data($0) }])
        }
    }

    /// Seals and stores the personal values of one record, replacing earlier ones of the same fields.
    func writeSealed(_ values: [String: String], entity: Entity, recordID: Int64, db: Database) throws {
        try writeSealed(seal(values, entity: entity, recordID: recordID), entity: entity, recordID: recordID, db: db)
    }

    /// Index digests of a customer's validated (canonical) values under the current index keys.
    ///
    /// Canonical e-mails and phones already are their search form; names still need folding.
    func indexDigests(_ values: [String: String]) throws -> [(field: FieldSchema, version: UInt32, digest: [UInt8])] {
        try schema.searchableFields.compactMap { field in
            guard let value = values[field.name], let search = field.search else { return nil }
            let name = KeyScope.fieldName(.customers, field.name)
            guard let (key, version) = keyring.currentKey(field: name, purpose: .index) else {
                throw VaultError.accessDenied("principal holds no key to index \(name)")
            }
            let form = search.normalization == .name ? Normalization.name(value) : value
            return (field, version, try BlindIndex.digest(form, key: key, bits: search.indexBits))
        }
    }

    /// Refuses a unique value (e-mail) that another customer already has.
    func checkUnique(_ digests: [(field: FieldSchema, version: UInt32, digest: [UInt8])], except customerID: Int64?, db: Database) throws {
        for entry in digests where entry.field.unique {
            let owner = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT customer_id FROM unique_indexes WHERE field = ? AND key_version = ? AND digest = ?"),
                arguments: [entry.field.name, entry.version, Data(entry.digest)])
            if let owner, owner != customerID {
                throw VaultError.conflict("a customer with this \(entry.field.name) already exists (customer \(owner))")
            }
        }
    }

    /// Writes index entries; `replacing` first removes the customer's earlier entries of those fields.
    func writeIndexes(_ digests: [(field: FieldSchema, version: UInt32, digest: [UInt8])], customerID: Int64, replacing: Bool,
                      db: Database) throws {
        for entry in digests {
            if replacing {
                try db.cachedStatement(sql: "DELETE FROM blind_indexes WHERE customer_id = ? AND field = ?")
                    .execute(arguments: [customerID, entry.field.name])
                try db.cachedStatement(sql: "DELETE FROM unique_indexes WHERE customer_id = ? AND field = ?")
                    .execute(arguments: [customerID, entry.field.name])
            }
            let table = entry.field.unique ? "unique_indexes" : "blind_indexes"
            try db.cachedStatement(sql: "INSERT INTO \(table) (field, key_version, digest, customer_id) VALUES (?, ?, ?, ?)")
                .execute(arguments: [entry.field.name, entry.version, Data(entry.digest), customerID])
        }
    }

    /// Opens the stored personal values of a record; fields without a key stay absent.
    func readSealed(entity: Entity, recordID: Int64, db: Database) throws -> [String: String] {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT field, key_version, sealed FROM sealed_values WHERE entity = ? AND record_id = ?"),
            arguments: [entity.rawValue, recordID])
        return try openRows(rows.map { ($0["field"], $0["key_version"], [UInt8]($0["sealed"] as Data)) }, entity: entity, recordID: recordID)
    }

    /// Opens envelopes fetched earlier (decryption can then run outside the database transaction).
    func openRows(_ rows: [(field: String, keyVersion: Int64, sealed: [UInt8])], entity: Entity, recordID: Int64) throws -> [String: String] {
        var values: [String: String] = [:]
        for row in rows {
            guard schema.field(entity, row.field)?.isPersonal == true else {
                throw VaultError.integrity("\(entity.rawValue) \(recordID): sealed value for unknown field \(row.field)")
            }
            guard (1...Int64(UInt32.max)).contains(row.keyVersion) else {
                throw VaultError.integrity("\(entity.rawValue) \(recordID) field \(row.field): bad key version")
            }
            let version = UInt32(row.keyVersion)
            let slot = "\(entity.rawValue) \(recordID) field \(row.field)"
            guard FieldEnvelope.keyVersion(of: row.sealed) == version else {
                throw VaultError.integrity("\(slot): sealed value is malformed or its key version was altered")
            }
            let scope = KeyScope(field: KeyScope.fieldName(entity, row.field), purpose: .seal, version: version)
            guard let key = keyring.key(scope) else {
                // A key that exists but was not granted: the field stays hidden. One that does not exist: tampering.
                guard keyring.existingScopes.contains(scope) else { throw VaultError.integrity("\(slot): refers to a key that does not exist") }
                continue
            }
            values[row.field] = try FieldEnvelope.open(row.sealed, key: key, keyVersion: version, vaultID: vaultID,
                                                       slot: SealedSlot(entity: entity, field: row.field, recordID: recordID, view: .plain))
        }
        return values
    }

    static func decodeAttributes(_ json: String, entity: Entity, id: Int64) throws -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)), let attributes = object as? [String: String] else {
            throw VaultError.integrity("\(entity.rawValue) \(id): plain attributes are corrupt")
        }
        return attributes
    }
}

extension RecordCodec {
    /// Resolves a customer by e-mail through the unique index (no decryption needed).
    func customerID(forEmail email: String, db: Database) throws -> Int64? {
        for entry in try indexDigests(["email": email]) where entry.field.unique {
            return try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT customer_id FROM unique_indexes WHERE field = ? AND key_version = ? AND digest = ?"),
                arguments: [entry.field.name, entry.version, Data(entry.digest)])
        }
        return nil
    }
}
