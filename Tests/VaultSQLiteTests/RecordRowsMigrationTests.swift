import Foundation
import GRDB
import Testing
import VaultCore
import VaultStore
import VaultTestSupport
import VaultFileInspector
@testable import VaultSQLite

/// Migration v12 (issue #19): sealed values move from `sealed_values` into their records' rows.
@Suite("Migration v12: one row per record")
struct RecordRowsMigrationTests {
    static func bytes(_ seed: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((seed &* 37 &+ $0) & 0xff) } }

    /// A vault with customers (some with masked views, one without values), history of both
    /// kinds, index entries of both indexes and a deleted record's id never reused.
    static func populated(_ path: String) async throws {
        let store = try SQLiteStore.create(path: path)
        defer { try? store.close() }
        try await store.write { tx in
            for id: Int64 in 1...40 {
                var digests = IndexDigests()
                digests["email"] = .init(version: 1, digest: bytes(Int(id), 16))
                digests["name"] = .init(version: 2, digest: bytes(Int(id) % 7, 4))
                let row = CustomerRow(id: id, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-02T00:00:00Z", attributes: #"{"region":"EU"}"#,
                                      erasedAt: nil, sealedDigest: bytes(Int(id) + 1, 32), indexDigests: digests, tag: bytes(Int(id) + 2, 16))
                let sealed = id == 7 ? [] : [
                    SealedEntry(field: "email", keyVersion: 1, sealed: bytes(Int(id) + 3, 57), masked: nil),
                    SealedEntry(field: "phone", keyVersion: 2, sealed: bytes(Int(id) + 4, 45), masked: id % 2 == 0 ? bytes(Int(id) + 5, 45) : nil),
                    SealedEntry(field: "name", keyVersion: 2, sealed: bytes(Int(id) + 6, 61), masked: nil),
                ]
                try tx.insert(row, sealed: sealed)
                try tx.insertIndexEntry(field: "email", unique: true, version: 1, digest: bytes(Int(id), 16), customerID: id)
                try tx.insertIndexEntry(field: "name", unique: false, version: 2, digest: bytes(Int(id) % 7, 4), customerID: id)
                for n: Int64 in 0..<3 {
                    let entity: Entity = n == 2 ? .interactions : .transactions
                    let history = HistoryRow(entity: entity, id: id * 10 + n, customerID: id, createdAt: "2026-02-01T00:00:00Z",
                                             attributes: #"{"amount":"12.50"}"#, sealedDigest: bytes(Int(n), 32), tag: bytes(Int(n) + 9, 16))
                    try tx.insert(history, sealed: [SealedEntry(field: "note", keyVersion: 1, sealed: bytes(Int(id * 10 + n), 40), masked: nil)])
                }
            }
            _ = try tx.deleteCustomer(id: 40)
        }
    }

    /// The populated vault, and its copy in the v10 layout.
    static func bothLayouts(in directory: TemporaryDirectory) async throws -> (current: String, old: String) {
        let current = directory.path("current.vault"), old = directory.path("old.vault")
        try await populated(current)
        try LayoutDowngrade.copy(current, toV10: old)
        return (current, old)
    }

    @Test("a vault in the v10 layout migrates with every row, value and index entry intact, and refuses nothing afterwards")
    func migratesRecordByRecord() async throws {
        let directory = try TemporaryDirectory()
        let (current, old) = try await Self.bothLayouts(in: directory)
        let oldValues = try await DatabaseQueue(path: old).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sealed_values") }
        #expect(oldValues == 38 * 3 + 39 * 3, "the v10 copy holds one row per value (customer 7 has none, 40 was deleted)")

        let seen = Mutex<[(String, Int, Int)]>([])
        let store = try SQLiteStore.open(path: old) { step, done, total in seen.withLock { $0.append((step, done, total)) } }
        let reports = seen.withLock { $0 }
        #expect(reports.last.map { $0.1 == $0.2 && $0.2 == oldValues } == true, "progress ends at the total: \(reports.map { "\($0.1)/\($0.2)" })")
        let (sealed, next) = try await store.read { tx in
            (try tx.sealedEntries(.customers, recordID: 2), try tx.nextRecordID(.customers))
        }
        #expect(sealed.map(\.field) == ["email", "name", "phone"] && sealed.first { $0.field == "phone" }?.masked == Self.bytes(7, 45))
        #expect(next == 41, "the deleted customer's id stays used")
        try await store.read { tx in try tx.checkStructure() }
        try store.close()
        let (before, after) = (try LayoutDowngrade.contents(current), try LayoutDowngrade.contents(old))
        #expect(before.keys.sorted() == after.keys.sorted() && !before.keys.contains("sealed_values"))
        for table in before.keys.sorted() {
            #expect(before[table] == after[table], "table \(table) differs after the migration")
        }
    }

    @Test("a migration interrupted at any point leaves the v10 layout whole, and the next open finishes it")
    func interruptedMigrationLeavesTheOldLayout() async throws {
        let directory = try TemporaryDirectory()
        let (current, old) = try await Self.bothLayouts(in: directory)
        let pristine = try LayoutDowngrade.contents(old)
        // The migration's transaction failing half-way (as a kill stops it): its writes roll back.
        struct Stop: Error {}
        let queue = try DatabaseQueue(path: old, configuration: VaultDatabase.configuration())
        try Migrations.migrator.migrate(queue, upTo: "v11-index-entries")
        #expect(throws: Stop.self) {
            try queue.write { db in
                try RecordRowsMigration.run(db) { _, done, total in }
                throw Stop()
            }
        }
        try queue.close()
        #expect(try LayoutDowngrade.contents(old) == pristine, "the file after an interrupted migration")
        let store = try SQLiteStore.open(path: old)
        try store.close()
        #expect(try LayoutDowngrade.contents(old) == LayoutDowngrade.contents(current))
    }
}
