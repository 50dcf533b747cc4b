import VaultCrypto
import VaultCore

/// How one entity's records are sealed and indexed under a codec's keys and write sessions,
/// worked out once (per import batch, per write) instead of once per value: each personal
/// field's current keys, versions and associated-data contexts, and each searchable field's
/// index keys. An import seals about ten values a record; looking these up per value was a
/// sixth of its sealing time (Benchmarks/RESULTS.md 18).
struct SealPlan: Sendable {
    /// The key a view of a field is sealed under, and where its envelopes belong.
    struct View: Sendable {
        var key: SecretBytes
        var version: UInt32
        /// The write session the key belongs to (envelope format 2), if not the field key itself.
        var session: Int64?
        var context: EnvelopeContext
    }

    /// A class, so walking the plan per record retains one reference instead of copying a field's schema.
    final class Field: Sendable {
        let schema: FieldSchema
        /// Nil when this principal holds no key (nor write session) for the view: a value is refused.
        let plain: View?
        /// Present only for a masked field; nil inside when no key writes the masked view.
        let masked: View??

        init(schema: FieldSchema, plain: View?, masked: View??) {
            self.schema = schema
            self.plain = plain
            self.masked = masked
        }
    }

    let entity: Entity
    let fields: [Field]
    let indexes: IndexPlan
}

/// The index keys of the searchable customer fields, as ``SealPlan`` holds them.
struct IndexPlan: Sendable {
    struct Field: Sendable {
        var schema: FieldSchema
        var search: FieldSchema.Search
        /// The current index key and its version; nil when this principal holds none.
        var current: (key: SecretBytes, version: UInt32)?
        /// Every version held, newest first (uniqueness is checked under all of them).
        var allVersions: [(key: SecretBytes, version: UInt32)]
    }

    let fields: [Field]
}

extension RecordCodec {
    /// The plan for sealing `entity`'s records with this codec's keyring and write sessions.
    func sealPlan(_ entity: Entity) -> SealPlan {
        func view(_ field: FieldSchema, _ purpose: KeyPurpose) -> SealPlan.View? {
            let name = KeyScope.fieldName(entity, field.name)
            let context = EnvelopeContext(vaultID: vaultID, entity: entity, field: field.name, view: purpose == .mask ? .masked : .plain)
            if let (key, version) = keyring.currentKey(field: name, purpose: purpose) {
                return SealPlan.View(key: key, version: version, session: nil, context: context)
            }
            if let session = sessions.session(field: name, purpose: purpose) {
                return SealPlan.View(key: session.key, version: session.version, session: session.id, context: context)
            }
            return nil
        }
        let fields = schema.personalFields(of: entity).map { field in
            SealPlan.Field(schema: field, plain: view(field, .seal), masked: field.mask == nil ? nil : .some(view(field, .mask)))
        }
        return SealPlan(entity: entity, fields: fields, indexes: entity == .customers ? indexPlan() : IndexPlan(fields: []))
    }

    /// The index keys of the searchable customer fields.
    func indexPlan() -> IndexPlan {
        IndexPlan(fields: schema.searchableFields.compactMap { field in
            guard let search = field.search else { return nil }
            let name = KeyScope.fieldName(.customers, field.name)
            return IndexPlan.Field(schema: field, search: search, current: keyring.currentKey(field: name, purpose: .index),
                                   allVersions: field.unique ? keyring.allVersions(field: name, purpose: .index) : [])
        })
    }

    /// Seals the personal values of one record under `plan`: the full view and, where the schema
    /// masks the field, the masked view. Touches no database, so it is safe to run in parallel.
    func seal(_ values: [String: String], plan: SealPlan, recordID: Int64) throws -> [SealedField] {
        var sealed: [SealedField] = []
        sealed.reserveCapacity(plan.fields.count)
        for field in plan.fields {
            guard let value = values[field.schema.name] else { continue }
            let full = try Self.sealView(value, field.plain, masked: false, plan: plan, field: field.schema, recordID: recordID)
            var masked: [UInt8]?
            if let maskedView = field.masked, let mask = field.schema.mask {
                masked = try Self.sealView(Masking.mask(value, as: mask), maskedView, masked: true, plan: plan, field: field.schema,
                                             recordID: recordID).envelope
            }
            sealed.append(SealedField(field: field.schema.name, keyVersion: full.version, sealed: full.envelope, masked: masked))
        }
        return sealed
    }

    private static func sealView(_ value: String, _ view: SealPlan.View?, masked: Bool, plan: SealPlan, field: FieldSchema,
                                 recordID: Int64) throws -> (envelope: [UInt8], version: UInt32) {
        guard let view else {
            let which = masked ? "the masked view of " : ""
            throw VaultError.accessDenied("access denied: this principal holds no key to write \(which)\(KeyScope.fieldName(plan.entity, field.name))")
        }
        return (try FieldEnvelope.seal(value, key: view.key, keyVersion: view.version, context: view.context, recordID: recordID,
                                       session: view.session), view.version)
    }
}
