import Foundation
package import GRDB
import VaultCore
import VaultCrypto

/// Refuses a vault file whose SQLite schema is not exactly what cvault's migrations create.
///
/// A trigger, view, index or table planted in the file runs inside the vault's own transactions
/// (a `BEFORE INSERT ON audit_log … RAISE(IGNORE)` would silence the access log; an `AFTER DELETE`
/// trigger could copy erased values aside). So before any data is read or written, every object in
/// `sqlite_master` (type, name, table and SQL text) is compared with the set the migrations
/// recorded in `grdb_migrations` produce on an empty database; anything extra, missing or
/// different is an integrity error naming the object. SQLite's own statistics tables
/// (`sqlite_stat1`, `sqlite_stat4`, made by `ANALYZE`) hold no code and are allowed.
package enum StoredSchema {
    package struct Object: Hashable, Sendable, Comparable {
        package var type: String
        package var name: String
        package var table: String
        package var sql: String?

        package static func < (lhs: Object, rhs: Object) -> Bool { (lhs.name, lhs.type) < (rhs.name, rhs.type) }

        package var description: String { type == "table" || type == "view" ? "\(type) \(name)" : "\(type) \(name) on \(table)" }
    }

    private static let cache = Mutex<[String: Set<Object>]>([:])

    /// BLAKE2b-256 of the schema each migration level creates (``digest(_:)``), so an open compares
    /// one digest instead of running every migration on an empty database (which costs more than
    /// the lookup it precedes). `StoredSchemaTests` recomputes them from the migrations; a level
    /// missing here is computed.
    package static let expectedDigests: [String: String] = [
        "v1-core": "94d2d63b523a4a5f514f816289e7066dc6f9903fa19ccfc9b8da0b3d0276e987",
        "v2-policy": "2dfe98c40268a7aabc7ca6adad2ebae57641719843656cc2a9575728d9117d86",
        "v3-audit": "93b9e7e8c09cb9f41e5a81f067d2b34db283886d4a54ab6daaf7d2b2dba246d2",
        "v4-rotation": "12ad7bfb14b34ca426c7e35b348171c4f19aa54e1f1e64920f9255ebf7c48fba",
        "v5-rotation-scan": "126f0d6412c6b6d485b16cc1c07a99758af881e867ed6bd0250886bab3afd8ce",
        "v6-erasure": "15f357270643f53a271a4844b804da08f7666dd022eeb81992856eb9f9bd6bfe",
        "v7-consent": "5e149ff17c3f4c2a4a02785ee2f8e497434acd2cc7dac9d67c0697473a985a90",
        "v8-integrity": "9e0a99202351f133e4a000a85fa72f975d7d4a8cc2ce2c7857673cd6556b9262",
        "v9-natural-keys": "275c83dfb90b4fcc5ca884ca8dd3a93e74bfb5775a371a102c4bb46c4792d726",
        "v10-upsert": "1dd0c5a642f72da850b5642eae33cd1303969d003d9c0f16b8041857e0a334aa",
        "v11-index-entries": "08526239e18c7cf423254c39093d9014f479e56907649465494b7d42f18e5235",
        "v12-record-rows": "a0576af39b09d9b6400fbabd6988049c314729edc464f1d90eaae49f801eaa1a",
    ]

    /// A digest of a set of objects, independent of their order.
    package static func digest(_ objects: Set<Object>) -> String {
        var writer = ByteWriter(domain: "cvault.sqlite-schema.v1")
        for object in objects.sorted(by: { ($0.type, $0.name, $0.table, $0.sql ?? "") < ($1.type, $1.name, $1.table, $1.sql ?? "") }) {
            writer.append(object.type)
            writer.append(object.name)
            writer.append(object.table)
            writer.append(object.sql ?? "")
            writer.append(object.sql == nil ? 0 : 1 as UInt8)
        }
        return (try? BLAKE2b.hash(writer.bytes)).map(Hex.encode) ?? ""
    }

    /// The objects in the file's `sqlite_master`.
    package static func objects(_ db: Database) throws -> Set<Object> {
        Set(try Row.fetchAll(db, sql: "SELECT type, name, tbl_name, sql FROM sqlite_master").compactMap { row -> Object? in
            let object = Object(type: try row.checked("type"), name: try row.checked("name"), table: try row.checked("tbl_name"), sql: try row.checked("sql"))
            return object.type == "table" && (object.name == "sqlite_stat1" || object.name == "sqlite_stat4") ? nil : object
        })
    }

    /// What the migrations up to and including `migration` create in an empty database.
    package static func expected(through migration: String) throws -> Set<Object> {
        if let hit = cache.withLock({ $0[migration] }) { return hit }
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue, upTo: migration)
        let objects = try queue.read { try Self.objects($0) }
        cache.withLock { $0[migration] = objects }
        return objects
    }

    /// Checks the file's schema against its recorded migrations; returns `PRAGMA schema_version`.
    ///
    /// - Throws: ``VaultError`` `.integrity` naming the first object that differs, `.unsupported`
    ///   for migrations of a newer cvault.
    @discardableResult
    package static func verify(_ db: Database, path: String) throws -> Int64 {
        let version = try Int64.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        guard try db.tableExists("grdb_migrations") else {
            throw VaultError.integrity("\(path) is not a cvault vault (it has no migration record)")
        }
        let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
        let known = Migrations.migrator.migrations
        let unknown = applied.subtracting(known)
        guard unknown.isEmpty else {
            throw VaultError(.unsupported, "\(path) was made by a newer cvault (schema \(unknown.sorted().joined(separator: ", "))); use that version")
        }
        // Migrations apply in order, so the record is always a prefix of the known list.
        guard let last = known.prefix(applied.count).last, Set(known.prefix(applied.count)) == applied else {
            throw VaultError.integrity("\(path): its migration record is not a prefix of cvault's migrations (altered in the file)")
        }
        let found = try objects(db)
        if let known = expectedDigests[last], digest(found) == known { return version }
        let expected = try expected(through: last)
        if let planted = found.subtracting(expected).sorted().first {
            if expected.contains(where: { $0.name == planted.name && $0.type == planted.type }) {
                throw VaultError.integrity("\(path): the \(planted.description) differs from what cvault's migrations create (altered in the file)")
            }
            throw VaultError.integrity("\(path): the file holds \(planted.description), which cvault did not create (planted in the file?); "
                + "the vault refuses to run beside it")
        }
        if let missing = expected.subtracting(found).sorted().first {
            throw VaultError.integrity("\(path): \(missing.description) is missing (removed in the file)")
        }
        return version
    }
}

/// Re-checks the schema inside each transaction whenever SQLite's schema cookie says it changed
/// since it was last verified: a trigger planted while a vault is open (by another process) is
/// refused before the transaction reads or writes anything. Costs one `PRAGMA schema_version`.
package final class SchemaGuard: Sendable {
    private let verified: Mutex<Int64>
    package let path: String

    package init(path: String, verifiedVersion: Int64) {
        self.path = path
        verified = Mutex(verifiedVersion)
    }

    package func check(_ db: Database) throws {
        let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA schema_version")) ?? 0
        guard version != verified.withLock({ $0 }) else { return }
        let checked = try StoredSchema.verify(db, path: path)
        verified.withLock { $0 = checked }
    }
}
