import Foundation
import VaultCrypto
import VaultCore
import VaultStore

/// Turns validated values into stored rows and back: seals personal fields (full and masked
/// views), writes blind indexes, and opens what the decision's views and the keyring allow.
struct RecordCodec: Sendable {
    let schema: Schema
    let keyring: Keyring
    let vaultID: [UInt8]
    /// The view of each personal field granted by the decision in force; a field not listed is hidden.
    var views: [String: FieldView] = [:]
    var sessions: WriteSessions = .none
    var sessionKeys: SessionKeyCache?

    /// The record key's tagger; every role that reads or writes records holds it.
    var integrity: RecordIntegrity {
        get throws {
            guard let key = keyring.key(RecordIntegrity.scope) else {
                throw VaultError.accessDenied("access denied: this principal holds no record key (a key custodian applying the policy grants it to roles that read or write records)", remedy: .applyPolicy)
            }
            return RecordIntegrity(key: key, vaultID: vaultID)
        }
    }

    /// The plain attributes a record keeps in clear, as JSON: plain schema fields plus, for
    /// customers, the derived `age_band`.
    func plainAttributes(_ values: [String: String], entity: Entity, today: String) throws -> String {
        FlatJSON.encode(plainAttributeValues(values, entity: entity, today: today))
    }

    /// The plain attributes of ``plainAttributes(_:entity:today:)`` before encoding.
    func plainAttributeValues(_ values: [String: String], entity: Entity, today: String) -> [String: String] {
        let fields = schema.fields(of: entity)
        var attributes: [String: String] = [:]
        attributes.reserveCapacity(fields.count + 1)
        for field in fields where !field.isPersonal {
            if let value = values[field.name] { attributes[field.name] = value }
        }
        if entity == .customers {
            if let birth = values["birth_date"], let age = Timestamps.age(birthDay: birth, today: today) {
                attributes["age_band"] = Timestamps.ageBand(age)
            } else if let age = values["age"].flatMap(Int.init) {
                attributes["age_band"] = Timestamps.ageBand(age)
            }
        }
        return attributes
    }

    /// Seals the personal values of one record: the full view and, where the schema masks the
    /// field, the masked view, each under its own key (or write session). Touches no database, so
    /// it is safe to run in parallel.
    func seal(_ values: [String: String], entity: Entity, recordID: Int64) throws -> [SealedField] {
        try seal(values, plan: sealPlan(entity), recordID: recordID)
    }

    /// Stores sealed values, replacing earlier ones of the same fields.
    func writeSealed(_ fields: [SealedField], entity: Entity, recordID: Int64, in tx: some StoreWriting) throws {
        try tx.writeSealedEntries(fields.map { SealedEntry(field: $0.field, keyVersion: Int64($0.keyVersion), sealed: $0.sealed, masked: $0.masked) },
                                  entity: entity, recordID: recordID)
    }

    /// Seals and stores the personal values of one record, replacing earlier ones of the same fields.
    func writeSealed(_ values: [String: String], entity: Entity, recordID: Int64, in tx: some StoreWriting) throws {
        try writeSealed(seal(values, entity: entity, recordID: recordID), entity: entity, recordID: recordID, in: tx)
    }

    /// Index digests of a customer's validated (canonical) values under the current index keys.
    ///
    /// Canonical e-mails and phones already are their search form; names still need folding.
    func indexDigests(_ values: [String: String], plan: IndexPlan? = nil) throws -> [(field: FieldSchema, version: UInt32, digest: [UInt8])] {
        try (plan ?? indexPlan()).fields.compactMap { field in
            guard let value = values[field.schema.name] else { return nil }
            guard let (key, version) = field.current else {
                throw VaultError.accessDenied("principal holds no key to index \(KeyScope.fieldName(.customers, field.schema.name))")
            }
            let form = field.search.normalization == .name ? Normalization.name(value) : value
            return (field.schema, version, try BlindIndex.digest(form, key: key, bits: field.search.indexBits))
        }
    }

    /// What `checkUnique` looks up: the unique fields' current digests and, during a rotation of
    /// their index key, the digests under every older version still held (rows not yet re-indexed
    /// carry those), so a duplicate cannot slip in mid-rotation.
    func uniquenessProbes(_ values: [String: String], current: [(field: FieldSchema, version: UInt32, digest: [UInt8])],
                          plan: IndexPlan? = nil) throws -> [(field: FieldSchema, version: UInt32, digest: [UInt8])] {
        var probes = current.filter(\.field.unique)
        guard !probes.isEmpty else { return probes }
        let plan = plan ?? indexPlan()
        for entry in probes {
            guard let value = values[entry.field.name], let field = plan.fields.first(where: { $0.schema.name == entry.field.name }) else { continue }
            // Only another version or a legacy form adds a probe; the common case (one version, one form) computes nothing.
            let forms = Normalization.probeForms(value, as: field.search.normalization)
            for key in field.allVersions {
                for form in forms where !(key.version == entry.version && form == forms[0]) {
                    probes.append((entry.field, key.version, try BlindIndex.digest(form, key: key.key, bits: field.search.indexBits)))
                }
            }
        }
        return probes
    }

    /// Refuses a unique value (e-mail) that another customer already has. The refusal says only
    /// that some customer has it (SECURITY.md §8a: what a uniqueness rule implies), never which.
    func checkUnique(_ digests: [(field: FieldSchema, version: UInt32, digest: [UInt8])], except customerID: Int64?, in tx: some StoreReading) throws {
        for entry in digests where entry.field.unique {
            for holder in try indexHolders(entry, in: tx) where holder != customerID {
                // Only a holder whose record holds the value refuses it; a planted entry is an integrity error.
                guard let row = try tx.customerRow(id: holder) else {
                    throw VaultError.integrity("unique_indexes: an entry names customer \(holder), which does not exist")
                }
                try row.verify(try integrity)
                try Self.checkIndexed(entry, by: row)
                throw VaultError.conflict("a customer with this \(entry.field.name) already exists")
            }
        }
    }

    /// The customers an index entry names (unchecked: see ``checkIndexed(_:by:)``).
    func indexHolders(_ entry: (field: FieldSchema, version: UInt32, digest: [UInt8]), in tx: some StoreReading) throws -> [Int64] {
        try tx.indexHolders(field: entry.field.name, unique: entry.field.unique, version: entry.version, digest: entry.digest)
    }

    /// Refuses an index entry that names a customer whose (verified) row does not commit to it: an
    /// entry moved, planted or put back in the file. An entry under an older index key version than
    /// the row's is one a rotation has superseded and not yet dropped; searches confirm every
    /// candidate by decryption, so it can only add a candidate, never a wrong match.
    static func checkIndexed(_ entry: (field: FieldSchema, version: UInt32, digest: [UInt8]), by row: CustomerRow) throws {
        let committed = row.indexDigests[entry.field.name]
        if let committed, committed.version > entry.version { return }
        guard committed == IndexDigests.Entry(version: entry.version, digest: entry.digest) else {
            throw VaultError.integrity("an index entry of customers.\(entry.field.name) names customer \(row.id), whose record does not hold that value "
                + "(moved, planted or put back in the file)")
        }
    }

    /// Writes index entries; with `replacing`, the entries the customer's (verified) row committed
    /// to before the change are removed first where they differ (found by their digests: the
    /// store keeps no by-customer index).
    func writeIndexes(_ digests: [(field: FieldSchema, version: UInt32, digest: [UInt8])], customerID: Int64, replacing previous: IndexDigests? = nil,
                      in tx: some StoreWriting) throws {
        for entry in digests {
            if let old = previous?[entry.field.name] {
                if old == IndexDigests.Entry(version: entry.version, digest: entry.digest) { continue }
                try tx.removeIndexEntry(field: entry.field.name, unique: entry.field.unique, version: old.version, digest: old.digest, customerID: customerID)
            }
            try tx.insertIndexEntry(field: entry.field.name, unique: entry.field.unique, version: entry.version, digest: entry.digest,
                                    customerID: customerID)
        }
    }

    /// Removes the index entry of `field` the customer's (verified) row committed to, if any.
    func removeIndex(field: String, committed: IndexDigests, customerID: Int64, in tx: some StoreWriting) throws {
        guard let old = committed[field], let schemaField = schema.field(.customers, field) else { return }
        try tx.removeIndexEntry(field: field, unique: schemaField.unique, version: old.version, digest: old.digest, customerID: customerID)
    }

    /// Opens the stored personal values of a record in the views granted: plain fields in full,
    /// masked fields in their masked form (listed in `masked`), the rest absent. The values read
    /// must be exactly those the record's (verified) row commits to, `expectedDigest`.
    func readSealed(entity: Entity, recordID: Int64, expectedDigest: [UInt8], in tx: some StoreReading) throws -> OpenedValues {
        // Read first, then open: opening may query the key tables.
        let rows = try SealedEntries.fetchVerified(entity, recordID: recordID, expected: expectedDigest, in: tx)
        var opened = OpenedValues()
        for row in rows {
            let field = row.field
            guard schema.field(entity, field)?.isPersonal == true else {
                throw VaultError.integrity("\(entity.rawValue) \(recordID): sealed value for unknown field \(field)")
            }
            let slot = SealedSlot(entity: entity, field: field, recordID: recordID, view: .plain)
            switch views[KeyScope.fieldName(entity, field)] ?? .none {
            case .plain:
                let keyVersion = row.keyVersion
                guard (1...Int64(UInt32.max)).contains(keyVersion) else {
                    throw VaultError.integrity("\(entity.rawValue) \(recordID) field \(field): bad key version")
                }
                if let value = try open(row.sealed, slot: slot, claimedVersion: UInt32(keyVersion), in: tx) {
                    opened.values[field] = value
                }
            case .masked:
                guard let masked = row.masked else { continue }
                var maskedSlot = slot
                maskedSlot.view = .masked
                if let value = try open(masked, slot: maskedSlot, claimedVersion: nil, in: tx) {
                    opened.values[field] = value
                    opened.masked.insert(field)
                }
            case .none:
                continue
            }
        }
        return opened
    }

    /// ``open(_:slot:claimedVersion:in:)`` with only the write sessions already loaded (work spread
    /// over threads, which holds no transaction).
    func open(_ envelope: [UInt8], slot: SealedSlot, claimedVersion: UInt32?) throws -> String? {
        try open(envelope, slot: slot, claimedVersion: claimedVersion, in: nil)
    }

    /// Opens one envelope with the key (or write session) it names. Nil when the key exists but
    /// was not granted to this principal; an error when it does not exist or the value fails.
    func open(_ envelope: [UInt8], slot: SealedSlot, claimedVersion: UInt32?, in tx: (any StoreReading)?) throws -> String? {
        func place() -> String { "\(slot.entity.rawValue) \(slot.recordID) field \(slot.field)" }
        guard let version = FieldEnvelope.keyVersion(of: envelope), claimedVersion == nil || claimedVersion == version else {
            throw VaultError.integrity("\(place()): sealed value is malformed or its key version was altered")
        }
        let purpose: KeyPurpose = slot.view == .masked ? .mask : .seal
        let scope = KeyScope(field: KeyScope.fieldName(slot.entity, slot.field), purpose: purpose, version: version)
        // A key held exists; only a key not held needs the vault's list to tell "not yours" from "forged".
        var key = keyring.key(scope)
        guard key != nil || keyring.existingScopes.contains(scope) else { throw VaultError.integrity("\(place()): refers to a key that does not exist") }
        if let session = FieldEnvelope.session(of: envelope) {
            guard let sessionKeys else { return nil }
            key = try sessionKeys.key(session, field: scope.field, purpose: purpose, version: version, keyring: keyring, in: tx)
        }
        guard let key else { return nil }
        return try FieldEnvelope.open(envelope, key: key, keyVersion: version, vaultID: vaultID, slot: slot)
    }

    static func decodeAttributes(_ json: String, entity: Entity?, id: Int64) throws -> [String: String] {
        guard let attributes = FlatJSON.decode(json) else {
            throw VaultError.integrity("\(entity?.rawValue ?? "principal") \(id): plain attributes are corrupt")
        }
        return attributes
    }
}

/// Personal values opened for a reader, and which of them are masked views.
struct OpenedValues: Sendable {
    var values: [String: String] = [:]
    var masked: Set<String> = []
}

extension RecordCodec {
    /// Resolves a customer by e-mail through the unique index (no decryption needed), under every
    /// index key version held, so it also works while the index is being rotated. The entry's tag
    /// is checked, and the customer's own (verified) row must commit to that e-mail's digest, so an
    /// index entry moved or put back from an older copy never attaches history to the wrong customer.
    func customerID(forEmail email: String, in tx: some StoreReading) throws -> Int64? {
        let plan = indexPlan()
        let current = try indexDigests(["email": email], plan: plan)
        for entry in try uniquenessProbes(["email": email], current: current, plan: plan) {
            guard let id = try indexHolders(entry, in: tx).first else { continue }
            guard let row = try tx.customerRow(id: id) else {
                throw VaultError.integrity("unique_indexes: an entry names customer \(id), which does not exist")
            }
            try row.verify(try integrity)
            guard let committed = row.indexDigests[entry.field.name],
                  let key = keyring.key(KeyScope(field: KeyScope.fieldName(.customers, entry.field.name), purpose: .index, version: committed.version)),
                  let search = entry.field.search,
                  try BlindIndex.digest(email, key: key, bits: search.indexBits) == committed.digest else {
                throw VaultError.integrity("unique_indexes: the entry for this e-mail names customer \(id), whose record does not hold it "
                    + "(moved or put back in the file)")
            }
            return id
        }
        return nil
    }
}
