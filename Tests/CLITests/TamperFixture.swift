import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector
import VaultStore

/// The victim of the attack tests: a vault on the shipped schema and policy made through the
/// library at the CLI's vault path, with one principal per shipped role (key files beside it, so
/// the CLI can act as each), an EU customer everyone's rows admit and a UK one, each with history.
struct TamperFixture {
    static let roles = ["support", "marketing", "analyst", "auditor", "intake", "dpo", "backup_operator"]

    /// The EU customer (marketing consent given) whose values must never leak or be forged.
    static let canary: [String: String] = [
        "name": "Qzcanary Wexford", "email": "qzcanary.wexford@example.com", "phone": "+44 20 7946 0999",
        "address": "77 Qzcanary Wharf", "age": "41", "gender": "qzcanarygender", "region": "EU", "marketing_consent": "true",
    ]
    static let summary = "Qzcanary called about a refund"
    static var fragments: [String] { ["Qzcanary", "qzcanary", "Wexford", "79460999", summary] }

    let workspace: Workspace
    let cli: CLI
    let path: String
    let admin: CustomerVault
    let eu: Int64
    let uk: Int64

    static func make() async throws -> TamperFixture {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace)
        let path = try #require(cli.environment["CVAULT_VAULT"])
        let adminKey = try SecretBytes(randomCount: 32)
        try Self.write(adminKey, to: workspace.path("admin.key"))
        let admin = try await CustomerVault.create(at: path, schema: Schema.load(yaml: Schema.defaultYAML), administrator: "admin",
                                                   credential: .keyFile(adminKey))
        for role in roles {
            let key = try SecretBytes(randomCount: 32)
            try Self.write(key, to: workspace.path("\(role).key"))
            _ = try await admin.addPrincipal(role, role: role, attributes: role == "support" ? ["regions": "EU"] : [:], credential: .keyFile(key))
        }
        let eu = try await admin.addCustomer(canary)
        let uk = try await admin.addCustomer(["name": "Una Kingdom", "email": "una.kingdom@example.com", "phone": "+44 20 7946 0123",
                                              "address": "1 Thames Street", "region": "UK", "marketing_consent": "false"])
        for id in [eu, uk] {
            _ = try await admin.addHistory(.interactions, customerID: id, values: [
                "occurred_at": "2026-01-02T03:04:05Z", "channel": "phone", "summary": id == eu ? summary : "Una asked about delivery"])
            _ = try await admin.addHistory(.transactions, customerID: id, values: [
                "order_id": "O-\(id)", "order_time": "2026-01-02T03:04:05Z", "payment_method": "card", "amount": "12.50", "currency": "EUR"])
        }
        return TamperFixture(workspace: workspace, cli: cli, path: path, admin: admin, eu: eu, uk: uk)
    }

    static func write(_ key: SecretBytes, to path: String) throws {
        try Data(key.withUnsafeBytes { Array($0) }).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
    }

    func keyFile(_ principal: String) -> String { workspace.path("\(principal).key") }

    /// Unlocks `principal` through the library.
    func open(_ principal: String, purpose: String? = nil) async throws -> CustomerVault {
        let vault = try await CustomerVault.open(at: path, principal: principal, credential: try Credential.keyFile(at: keyFile(principal)))
        return try purpose.map { try vault.withPurpose($0) } ?? vault
    }

    /// Runs the CLI as `principal`, with its key file.
    @discardableResult
    func run(_ arguments: [String], as principal: String = "admin", purpose: String? = nil) throws -> CLI.Result {
        try cli.run(arguments + ["--principal", principal, "--key-file", keyFile(principal)] + (purpose.map { ["--purpose", $0] } ?? []))
    }

    /// The vault file past the library: what anybody who can write the file can do.
    var file: VaultFileInspector {
        get throws { try VaultFileInspector(path) }
    }

    /// Re-tags a customer's row after its sealed values were changed in the file, with the record
    /// key of `holder` (what an insider holding that key can do on top of a file edit).
    func recommit(customer id: Int64, as holder: CustomerVault) throws {
        let integrity = try holder.recordIntegrity
        try file.storeTransaction { tx in
            guard var row = try tx.customerRow(id: id) else { return }
            row.sealedDigest = try RecordIntegrity.sealedDigest(try tx.sealedEntries(.customers, recordID: id), entity: .customers, recordID: id)
            try row.retag(integrity)
            try tx.update(row)
        }
    }

    /// Expects a CLI result to be an integrity failure (exit 6) that prints no personal value.
    func expectIntegrityFailure(_ result: CLI.Result, naming fragment: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 6, "exit \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(!Self.fragments.contains { result.output.contains($0) }, "a value leaked: \(result.output)", sourceLocation: sourceLocation)
        if let fragment { #expect(result.stderr.contains(fragment), "\(result.stderr)", sourceLocation: sourceLocation) }
    }
}

extension VaultError {
    /// Runs `body` and returns the VaultError it threw, or nil.
    static func caught(_ body: () async throws -> Void) async -> VaultError? {
        do {
            try await body()
            return nil
        } catch let error as VaultError {
            return error
        } catch {
            return VaultError(.io, "unexpected error type \(type(of: error))")
        }
    }
}
