import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

/// SQL objects planted in the file run inside the vault's own transactions; the vault refuses to
/// open beside any object its migrations did not create (``StoredSchema``).
@Suite("Planted SQL objects")
struct PlantedObjectTests {
    static let legacy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/legacy-62f2ca4")

    /// The vaults the sweep plants into: a fresh one of the shipped schema with principals of every
    /// role and history, and the legacy fixture before and after its upgrade.
    static func bases(in directory: TemporaryDirectory) async throws -> [(label: String, path: String, open: (String) async throws -> Void)] {
        let fixture = try await RoleFixture.make()
        _ = try await fixture.admin.rotateKeys(fields: ["email"])
        _ = try await fixture.admin.retireKeys(fields: ["email"])
        try await fixture.admin.checkpoint()
        let fresh = directory.path("fresh.vault")
        try FileManager.default.copyItem(atPath: fixture.path, toPath: fresh)
        let adminKey = try Credential.keyFile(at: fixture.adminKeyFile())
        let legacyKey = try Credential.keyFile(at: legacy.appendingPathComponent("admin.key").path)
        let old = directory.path("legacy.vault")
        try FileManager.default.copyItem(atPath: legacy.appendingPathComponent("legacy.vault").path, toPath: old)
        let upgraded = directory.path("upgraded.vault")
        try FileManager.default.copyItem(atPath: old, toPath: upgraded)
        let vault = try await CustomerVault.open(at: upgraded, principal: "admin", credential: legacyKey)
        try await vault.checkpoint()
        try vault.close()
        return [
            ("fresh", fresh, { path in try await CustomerVault.open(at: path, principal: "admin", credential: adminKey).close() }),
            ("legacy", old, { path in try await CustomerVault.open(at: path, principal: "admin", credential: legacyKey).close() }),
            ("upgraded", upgraded, { path in try await CustomerVault.open(at: path, principal: "admin", credential: legacyKey).close() }),
        ]
    }

    @Test("every trigger, view, index or table planted on every table is refused on open, by the library and by audit verify: 100% detected")
    func sweep() async throws {
        let directory = try TemporaryDirectory()
        var tried = 0, detected = 0
        for base in try await Self.bases(in: directory) {
            let tables = try VaultFileInspector(base.path).tables()
            #expect(tables.count >= (base.label == "legacy" ? 19 : 21), "\(base.label): \(tables)")
            for table in tables {
                let column = try VaultFileInspector(base.path).columns(of: table).first ?? "rowid"
                // A trigger of each timing and event, a view, an index and a table.
                for plant in VaultFileInspector.plants(on: table, column: column) {
                    let copy = directory.path("\(base.label)-\(plant.name).vault")
                    try FileManager.default.copyItem(atPath: base.path, toPath: copy)
                    try VaultFileInspector(copy).plant(plant)
                    tried += 1
                    let opened = await VaultError.caught { try await base.open(copy) }
                    let verified = await VaultError.caught { _ = try await CustomerVault.verifyAuditLog(at: copy) }
                    if opened?.code == .integrity, opened?.message.contains(plant.name) == true, verified?.code == .integrity {
                        detected += 1
                    } else {
                        Issue.record("\(base.label): \(plant.name) not refused: \(opened?.message ?? "opened"), \(verified?.message ?? "verified")")
                    }
                    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) }
                }
            }
        }
        #expect(tried >= 3 * 19 * 9 && detected == tried, "\(detected) of \(tried) planted objects detected")
    }

    @Test("an object of the vault altered or removed is refused, naming it")
    func alteredObjects() async throws {
        let directory = try TemporaryDirectory()
        let base = try #require(try await Self.bases(in: directory).first)
        let changes: [(VaultFileInspector.Alteration, String)] = [
            (.partialIndex, "index transactions_by_customer on transactions differs"),
            (.triggerRemoved, "trigger customers_drop_natural_keys on customers is missing"),
            (.tableRedefined, "table transactions differs"),
            // The last migration gives each record table its column of packed values: without its
            // record, the first of them no longer matches.
            (.migrationForged, "table customers differs"),
        ]
        #expect(changes.count == VaultFileInspector.Alteration.allCases.count)
        for (alteration, expected) in changes {
            let label = alteration.rawValue
            let copy = directory.path("altered-\(label.replacingOccurrences(of: " ", with: "-")).vault")
            try FileManager.default.copyItem(atPath: base.path, toPath: copy)
            try VaultFileInspector(copy).alter(alteration)
            let error = await VaultError.caught { try await base.open(copy) }
            #expect(error?.code == .integrity && error?.message.contains(expected) == true, "\(label): \(error?.message ?? "opened")")
        }
    }

    @Test("0 false alarms: vaults made, migrated, upgraded, rotated, restored and re-keyed all open")
    func noFalseAlarms() async throws {
        let directory = try TemporaryDirectory()
        for base in try await Self.bases(in: directory) {
            #expect(await VaultError.caught { try await base.open(base.path) } == nil, "\(base.label)")
        }
        // A rotation's finish drops and re-creates the by-customer indexes; a restore writes a new file.
        let fixture = try await RoleFixture.make()
        _ = try await fixture.admin.rotateKeys()
        _ = try await fixture.admin.retireKeys()
        let renewed = try await fixture.open("support").changeCredential(to: .keyFile(try SecretBytes(randomCount: 32)))
        #expect(try await renewed.withPurpose("support_ticket").listCustomers().count == 1)
        let backup = directory.path("b.cvbackup")
        _ = try await fixture.admin.createBackup(to: backup)
        let key = try await fixture.admin.backupKey(for: backup)
        let restored = directory.path("restored.vault")
        _ = try await CustomerVault.restoreBackup(backup, to: restored, key: key, principal: "admin", credential: try Credential.keyFile(at: fixture.adminKeyFile()))
        let reopened = try await CustomerVault.open(at: restored, principal: "admin", credential: try Credential.keyFile(at: fixture.adminKeyFile()))
        #expect(try await reopened.verifyIntegrity().records >= 3)
        #expect(try await fixture.admin.verifyIntegrity().records >= 3)
    }
}
