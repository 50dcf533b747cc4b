import Foundation
import GRDB
import Testing
@testable import VaultSQLite

@Suite("The schema migrations create")
struct StoredSchemaTests {
    @Test("the digest of each migration level's schema, which opens compare, is what the migrations create")
    func digestsAreCurrent() throws {
        var computed: [String: String] = [:]
        for migration in Migrations.migrator.migrations {
            computed[migration] = StoredSchema.digest(try StoredSchema.expected(through: migration))
        }
        let table = computed.keys.sorted().map { "        \"\($0)\": \"\(computed[$0]!)\"," }.joined(separator: "\n")
        #expect(StoredSchema.expectedDigests == computed, "StoredSchema.expectedDigests must be:\n\(table)")
    }
}
