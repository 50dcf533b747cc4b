import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

/// A vault on the shipped schema and policy with one principal per shipped role (key files, so no
/// Argon2id per principal) and canary customers whose values must never show up where they should not.
struct RoleFixture {
    static let roles = ["admin", "support", "marketing", "analyst", "auditor", "intake", "dpo"]

    /// The EU customer everyone's row conditions admit (EU, marketing consent true).
    static let canary: [String: String] = [
        "name": "Qzcanary Wexford", "email": "qzcanary.wexford@example.com", "phone": "+44 20 7946 0999",
        "address": "77 Qzcanary Wharf", "age": "41", "gender": "qzcanarygender", "region": "EU", "marketing_consent": "true",
    ]
    /// Personal values of `canary` in their stored (canonical) form.
    static let canaryStored: [String: String] = [
        "name": "Qzcanary Wexford", "email": "qzcanary.wexford@example.com", "phone": "+442079460999",
        "address": "77 Qzcanary Wharf", "age": "41", "gender": "qzcanarygender",
    ]
    /// What a masked view of each masked field shows.
    static let canaryMasked: [String: String] = [
        "name": "Q. W.", "email": "q***@example.com", "phone": "***-***-0999", "address": "77 ***",
    ]
    static let interactionSummary = "Qzcanary called about a refund"

    /// Every canary fragment an error or a leak would contain.
    static var canaryFragments: [String] { ["Qzcanary", "qzcanary", "Wexford", "7946 0999", "79460999", interactionSummary] }

    let directory: TemporaryDirectory
    let path: String
    let admin: CustomerVault
    /// Key-file credentials by principal name (principal name = role name).
    private let keys: [String: SecretBytes]
    /// The canary customer (EU, consent) and one outside support's and marketing's rows (UK, no consent).
    let euID: Int64
    let ukID: Int64

    static func make() async throws -> RoleFixture {
        let directory = try TemporaryDirectory()
        let path = directory.path("roles.vault")
        let adminKey = try SecretBytes(randomCount: 32)
        let admin = try await CustomerVault.create(at: path, schema: Fixtures.schema(), administrator: "admin", credential: .keyFile(adminKey))
        var keys: [String: SecretBytes] = ["admin": adminKey]
        for role in roles where role != "admin" {
            let key = try SecretBytes(randomCount: 32)
            keys[role] = key
            _ = try await admin.addPrincipal(role, role: role, attributes: role == "support" ? ["regions": "EU"] : [:], credential: .keyFile(key))
        }
        let euID = try await admin.addCustomer(canary)
        var uk = Fixtures.customer(9_001, region: "UK")
        uk["marketing_consent"] = "false"
        let ukID = try await admin.addCustomer(uk)
        _ = try await admin.addHistory(.interactions, customerID: euID, values: [
            "occurred_at": "2026-01-02T03:04:05Z", "channel": "phone", "summary": interactionSummary])
        _ = try await admin.addHistory(.transactions, customerID: euID, values: [
            "order_id": "O-1", "order_time": "2026-01-02T03:04:05Z", "payment_method": "card", "amount": "12.50", "currency": "EUR"])
        return RoleFixture(directory: directory, path: path, admin: admin, keys: keys, euID: euID, ukID: ukID)
    }

    /// Unlocks the principal of `role` (admin: the creating handle).
    func open(_ role: String, purpose: String? = nil) async throws -> CustomerVault {
        let vault = try await role == "admin" ? admin : CustomerVault.open(at: path, principal: role, credential: .keyFile(keys[role]!))
        return try purpose.map { try vault.withPurpose($0) } ?? vault
    }

    func adminKeyFile() throws -> String { try writeKeyFile("admin") }

    /// Writes a key file for a principal, for CLI tests.
    func writeKeyFile(_ role: String) throws -> String {
        let file = directory.path("\(role).key")
        try Data(keys[role]!.withUnsafeBytes { Array($0) }).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Every sealed row in the file, read directly with SQLite (what a holder of the file has).
    func rawSealedRows() throws -> [(entity: String, recordID: Int64, field: String, keyVersion: Int64, sealed: [UInt8], masked: [UInt8]?)] {
        try VaultFileInspector(path).rows("sealed_values", columns: ["entity", "record_id", "field", "key_version", "sealed", "masked"]).map {
            (try #require($0["entity"].text), try #require($0["record_id"].int), try #require($0["field"].text), try #require($0["key_version"].int),
             try #require($0["sealed"].bytes), $0["masked"].bytes)
        }
    }

    /// Every write session in the file: (id, field, purpose, version, sealed key).
    func rawSessions() throws -> [(id: Int64, field: String, purpose: String, version: Int64, sealedKey: [UInt8])] {
        try VaultFileInspector(path).rows("write_sessions", columns: ["id", "field", "purpose", "key_version", "sealed_key"]).map {
            (try #require($0["id"].int), try #require($0["field"].text), try #require($0["purpose"].text), try #require($0["key_version"].int),
             try #require($0["sealed_key"].bytes))
        }
    }
}
