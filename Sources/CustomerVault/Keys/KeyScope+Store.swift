import GRDB
import VaultSQLite
import VaultCore

extension KeyScope {
    /// Every live key the vault has, granted to anyone.
    static func fetchExisting(_ db: Database) throws -> Set<KeyScope> {
        Set(try Row.fetchAll(db, sql: "SELECT field, purpose, version FROM data_keys WHERE retired_at IS NULL").compactMap { row in
            let version: Int64 = try row.checked("version")
            guard let purpose = KeyPurpose(rawValue: try row.checked("purpose")), (1...Int64(UInt32.max)).contains(version) else { return nil }
            return KeyScope(field: try row.checked("field"), purpose: purpose, version: UInt32(version))
        })
    }
}
