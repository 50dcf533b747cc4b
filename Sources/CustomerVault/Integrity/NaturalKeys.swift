import VaultCore
import VaultStore

/// Entries of `natural_keys`: which record holds each value of a plain unique field (a
/// transaction's `order_id`), so that a row stored already is recognised without a scan.
///
/// An entry is a pointer, not a fact: it is trusted only once the record it names is found to hold
/// its value, that record's row checked against its tag. A planted or redirected entry is an
/// integrity error; a deleted one lets a row be stored again, which ``CustomerVault/verifyIntegrity()`` reports.
enum NaturalKeys {
    /// A record holding a natural-key value: its id, and its owner for a history row.
    struct Holder: Equatable {
        var recordID: Int64
        var customerID: Int64?
    }

    /// The record that holds `value` of `field`, verified; nil when none does.
    static func holder(_ entity: Entity, field: String, value: String, integrity: RecordIntegrity, in tx: some StoreReading) throws -> Holder? {
        guard let id = try tx.naturalKeyHolder(entity, field: field, value: value) else { return nil }
        let place = "natural_keys (\(entity.rawValue).\(field) of record \(id))"
        let attributes: [String: String]
        let holder: Holder
        if entity == .customers {
            guard let row = try tx.customerRow(id: id) else { throw VaultError.integrity("\(place): names a record that does not exist") }
            try row.verify(integrity)
            attributes = try row.decodedAttributes()
            holder = Holder(recordID: id, customerID: nil)
        } else {
            guard let row = try HistoryRow.fetchVerified(entity, id: id, integrity: integrity, in: tx) else {
                throw VaultError.integrity("\(place): names a record that does not exist")
            }
            attributes = try row.decodedAttributes()
            holder = Holder(recordID: id, customerID: row.customerID)
        }
        guard attributes[field] == value else { throw VaultError.integrity("\(place): the record does not hold this value (an entry planted or moved in the file)") }
        return holder
    }

    /// Records that record `id` holds its natural-key values (`values` canonical).
    static func insert(_ entity: Entity, recordID: Int64, values: [String: String], schema: Schema, in tx: some StoreWriting) throws {
        for field in schema.naturalKeys(of: entity) {
            guard let value = values[field.name] else { continue }
            try tx.insertNaturalKey(NaturalKeyEntry(entity: entity, field: field.name, value: value, recordID: recordID))
        }
    }

    /// The first natural key of `values` that a stored record holds, with that record.
    static func firstHeld(_ entity: Entity, values: [String: String], schema: Schema, integrity: RecordIntegrity, in tx: some StoreReading)
        throws -> (field: String, value: String, holder: Holder)? {
        for field in schema.naturalKeys(of: entity) {
            guard let value = values[field.name], let holder = try holder(entity, field: field.name, value: value, integrity: integrity, in: tx) else { continue }
            return (field.name, value, holder)
        }
        return nil
    }

    /// Refuses values whose natural key a stored record holds (a conflict naming the field and record).
    static func refuseHeld(_ entity: Entity, values: [String: String], schema: Schema, integrity: RecordIntegrity, in tx: some StoreReading) throws {
        guard let held = try firstHeld(entity, values: values, schema: schema, integrity: integrity, in: tx) else { return }
        throw VaultError.conflict("\(held.field): \(entity.rawValue) \(held.holder.recordID) already has this \(held.field)")
    }

    /// Moves record `id`'s entries to the natural-key values among `new` that differ from `old`.
    static func replace(_ entity: Entity, recordID: Int64, from old: [String: String], to new: [String: String], schema: Schema,
                        integrity: RecordIntegrity, in tx: some StoreWriting) throws {
        for field in schema.naturalKeys(of: entity) {
            guard let value = new[field.name], value != old[field.name] else { continue }
            if let holder = try holder(entity, field: field.name, value: value, integrity: integrity, in: tx), holder.recordID != recordID {
                throw VaultError.conflict("\(field.name): \(entity.rawValue) \(holder.recordID) already has this \(field.name)")
            }
            try tx.deleteNaturalKey(entity, field: field.name, recordID: recordID)
            try insert(entity, recordID: recordID, values: [field.name: value], schema: schema, in: tx)
        }
    }
}
