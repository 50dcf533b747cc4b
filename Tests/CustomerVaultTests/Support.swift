import Foundation
import Testing
import VaultCrypto
@_exported import VaultTestSupport
@testable import CustomerVault
import VaultFileInspector
import VaultStore

enum Fixtures {
    static let passphrase = "correct horse battery staple"

    static func credential() throws -> Credential { try Credential.passphrase(passphrase) }

    static func schema(_ yaml: String = Schema.defaultYAML) throws -> Schema { try Schema.load(yaml: yaml) }

    /// A vault with the shipped schema and an `admin` principal.
    static func vault(in directory: TemporaryDirectory, schema: Schema? = nil) async throws -> CustomerVault {
        try await CustomerVault.create(at: directory.path("test.vault"), schema: schema ?? Self.schema(), administrator: "admin",
                                       credential: credential())
    }

    /// Changes customers' rows in the file and tags them again with `vault`'s record key: what a
    /// holder of that key (a principal whose role reads records) can do, for tests that need a
    /// state the library never writes (customers inactive for years).
    static func rewriteCustomers(_ ids: [Int64], of vault: CustomerVault, _ change: (inout CustomerRow) -> Void) throws {
        let integrity = try vault.recordIntegrity
        try VaultFileInspector(vault.path).storeTransaction { tx in
            for id in ids {
                guard var row = try tx.customerRow(id: id) else { continue }
                change(&row)
                try row.retag(integrity)
                try tx.update(row)
            }
        }
    }

    static func customer(_ n: Int, region: String = "EU") -> [String: String] {
        ["name": "Person Number\(n)", "email": "person\(n)@example.com", "phone": "+44 20 7946 \(String(format: "%04d", n % 10_000))",
         "address": "\(n) High Street, London", "age": String(20 + n % 60), "gender": "unspecified", "region": region]
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

extension CustomerVault {
    /// The file inspector on this vault's own open connections, for what only they show (their
    /// settings, what the vault sees before anything is checkpointed).
    var liveFile: VaultFileInspector {
        get throws { try VaultFileInspector(store: gate.storeForTests) }
    }
}
