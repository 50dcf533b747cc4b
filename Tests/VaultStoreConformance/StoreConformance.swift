package import VaultStore
import VaultCore

/// Behavioural checks every ``VaultStore`` must pass, whatever its engine: what it is given it
/// hands back unchanged, in order, atomically. A store's own test target runs each check against
/// a fresh, empty store (`VaultSQLiteTests` for the SQLite store).
///
/// Checks throw ``ConformanceFailure`` naming what differed, so they run under any test library.
package enum StoreConformance {
    package struct Check: Sendable, CustomStringConvertible {
        package let name: String
        package let run: @Sendable (any VaultStore) async throws -> Void
        package var description: String { name }
    }

    /// Every check, by aggregate.
    package static let checks: [Check] = AuditLogConformance.checks + KeyStoreConformance.checks + VaultMetaConformance.checks
        + WriteSessionConformance.checks + RecordConformance.checks + NaturalKeyConformance.checks
        + ConsentConformance.checks + ErasureConformance.checks + ImportConformance.checks + RotationConformance.checks
        + StoreServicesConformance.checks
}

/// What a check found.
package struct ConformanceFailure: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) { self.description = description }
}

/// Fails with `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    guard condition else { throw ConformanceFailure(message()) }
}

/// Fails unless `actual` equals `expected`.
func requireEqual<T: Equatable>(_ actual: T, _ expected: T, _ what: String) throws {
    guard actual == expected else { throw ConformanceFailure("\(what): expected \(expected), got \(actual)") }
}
