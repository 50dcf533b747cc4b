import Testing
import VaultSQLite
import VaultStore
import VaultStoreConformance
import VaultTestSupport

/// The store conformance suite against the SQLite store, each check on a fresh vault file made by
/// the current migrations.
@Suite("The SQLite store conforms")
struct SQLiteStoreConformanceTests {
    @Test("conformance", arguments: StoreConformance.checks)
    func conforms(_ check: StoreConformance.Check) async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore.create(path: directory.path("conformance.vault"))
        defer { try? store.close() }
        do {
            try await check.run(store)
        } catch let failure as ConformanceFailure {
            Issue.record("\(check.name): \(failure.description)")
        }
    }
}
