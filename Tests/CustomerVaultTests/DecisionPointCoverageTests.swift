import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault

/// Proves there is one door: every public entry point of `CustomerVault` either asks the policy
/// decision point (and so writes an access-log entry) or is listed here as touching no personal data.
///
/// The entry points are enumerated by the compiler, not by reading the sources: the test extracts
/// the built module's symbol graph (`swift-symbolgraph-extract`, the tool behind DocC) and takes
/// every public method of every public type of the library that holds a gate.
@Suite("One decision point", .serialized)
struct DecisionPointCoverageTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/CustomerVault")

    /// Entry points that need no decision, and why.
    static let exempt: [String: String] = [
        "static create": "makes a new, empty vault; logs vault.init itself",
        "static open": "unlocks a keyring; reads no personal data",
        "close": "closes connections",
        "checkpoint": "moves WAL pages into the file; reads nothing",
        "withPurpose": "returns a handle that gives a purpose with its requests",
        "static explain": "reads the policy, roles and plain attributes only (no credential)",
        "static storedPolicy": "reads the signed policy and schema (not secret)",
        "changeCredential": "re-wraps the caller's own keys; passes the gate under a built-in rule and is logged",
        "static verifyAuditLog": "reads only the access log and public keys (no credential)",
        "static inspectBackup": "reads a backup file's public header; opens no vault",
        "static verifyBackup": "checks a backup file with a recovery key file; opens no vault and reads no value out",
        "static restoreBackup": "needs the backup key; is logged as vault.restore in the restored vault, through its gate, before it is put in place",
    ]

    /// Every gated entry point, called as a principal whose role is granted nothing.
    static func gatedCalls(_ vault: CustomerVault, file: String) -> [String: () async throws -> Void] {
        [
            "addCustomer": { _ = try await vault.addCustomer(Fixtures.customer(1)) },
            "customer": { _ = try await vault.customer(1) },
            "findCustomers": { _ = try await vault.findCustomers(field: "email", equalTo: "a@example.com") },
            "listCustomers": { _ = try await vault.listCustomers() },
            "updateCustomer": { try await vault.updateCustomer(1, set: ["region": "EU"]) },
            "deleteCustomer": { try await vault.deleteCustomer(1) },
            "addHistory": { _ = try await vault.addHistory(.interactions, customerID: 1, values: [
                "occurred_at": "2026-01-01T00:00:00Z", "channel": "email", "summary": "x"]) },
            "history": { _ = try await vault.history(.transactions, customerID: 1) },
            "recordBehaviour": { _ = try await vault.recordBehaviour(customerID: 1, adding: BehaviourCounters(browse: 1)) },
            "behaviour": { _ = try await vault.behaviour(customerID: 1) },
            "importCSV": { _ = try await vault.importCSV(.customers, from: file) },
            "exportCustomers": { _ = try await vault.exportCustomers(format: .csv) { _ in } },
            "export": { _ = try await vault.export(.interactions, format: .jsonl) { _ in } },
            "exportAll": { _ = try await vault.exportAll(format: .csv, to: file + "-export") },
            "importBehaviour": { _ = try await vault.importBehaviour(from: file) },
            "aggregateReport": { _ = try await vault.aggregateReport() },
            "customerCount": { _ = try await vault.customerCount() },
            "auditLog": { _ = try await vault.auditLog() },
            "auditHead": { _ = try await vault.auditHead() },
            "auditTermDigest": { _ = try await vault.auditTermDigest(field: "email", value: "a@example.com") },
            "followAuditLog": { try await vault.followAuditLog(after: 0) { _ in } },
            "keyStatus": { _ = try await vault.keyStatus() },
            "rotateKeys": { _ = try await vault.rotateKeys() },
            "retireKeys": { _ = try await vault.retireKeys() },
            "addPrincipal": { _ = try await vault.addPrincipal("x", role: "nobody", credential: .keyFile(try SecretBytes(randomCount: 32))) },
            "listPrincipals": { _ = try await vault.listPrincipals() },
            "disablePrincipal": { try await vault.disablePrincipal("admin") },
            "updatePrincipal": { _ = try await vault.updatePrincipal("admin", setting: ["team": "x"]) },
            "applyPolicy": { _ = try await vault.applyPolicy(vault.policy) },
            "createBackup": { _ = try await vault.createBackup(to: file + ".cvbackup") },
            "verifyBackup": { _ = try await vault.verifyBackup(file + ".cvbackup") },
            "backupKey": { _ = try await vault.backupKey(for: file + ".cvbackup") },
            "exportBackupKey": { try await vault.exportBackupKey(to: file + ".key") },
            "eraseCustomer": { _ = try await vault.eraseCustomer(1) },
            "exportSubject": { _ = try await vault.exportSubject(1) },
            "erasureLedger": { _ = try await vault.erasureLedger() },
            "applyRetention": { _ = try await vault.applyRetention(dryRun: true) },
            "findDuplicates": { _ = try await vault.findDuplicates() },
            "mergeCustomers": { _ = try await vault.mergeCustomers(keep: 1, drop: 2) },
            "verifyIntegrity": { _ = try await vault.verifyIntegrity() },
        ]
    }

    /// The public methods of `CustomerVault` as the compiler sees them, by base name (`static `
    /// in front of type methods), from the symbol graph of the module the tests were built with.
    static func publicEntryPoints() throws -> Set<String> {
        let graph = try SymbolGraph.extract(module: "CustomerVault")
        return Set(graph.symbols.compactMap { symbol -> String? in
            guard symbol.accessLevel == "public", symbol.pathComponents.count == 2, symbol.pathComponents[0] == "CustomerVault" else { return nil }
            let name = String(symbol.pathComponents[1].prefix { $0 != "(" })
            switch symbol.kind.identifier {
            case "swift.method": return name
            case "swift.type.method": return "static " + name
            default: return nil
            }
        })
    }

    /// Every type of the library that holds a gate, and so could reach the store: only the vault
    /// handle today (services by concern will join it, their public methods enumerated as above).
    @Test("the vault handle is the only public type that holds the gate")
    func onlyTheHandleHoldsTheGate() throws {
        let graph = try SymbolGraph.extract(module: "CustomerVault", minimumAccess: "internal")
        let holders = Set(graph.symbols.filter { $0.pathComponents.count == 2 && $0.pathComponents[1] == "gate" }.map { $0.pathComponents[0] })
        #expect(holders == ["CustomerVault"], "types holding a gate: \(holders.sorted()); list their public methods in gatedCalls or exempt")
    }

    @Test("every public entry point is either gated or explicitly exempt")
    func enumeration() async throws {
        let declared = try Self.publicEntryPoints()
        #expect(declared.count > 40, "the symbol graph lists the entry points: \(declared.count)")
        let directory = try TemporaryDirectory()
        let vault = try await CustomerVault.create(at: directory.path("names.vault"), schema: Fixtures.schema(), administrator: "admin",
                                                   credential: .keyFile(try SecretBytes(randomCount: 32)))
        let gated = Set(Self.gatedCalls(vault, file: "").keys)
        let unclassified = declared.subtracting(gated).subtracting(Self.exempt.keys)
        #expect(unclassified.isEmpty, "new public entry points must be added to gatedCalls (and pass the gate) or to exempt: \(unclassified.sorted())")
        #expect(gated.subtracting(declared).isEmpty, "stale names: \(gated.subtracting(declared).sorted())")
    }

    @Test("each gated entry point refuses a role with no grants and logs the refusal")
    func everyEntryPointAsksTheDecisionPoint() async throws {
        let directory = try TemporaryDirectory()
        let schema = try Fixtures.schema()
        let policy = try Policy.load(yaml: Policy.defaultYAML + "\n  nobody: { description: granted nothing }\n", schema: schema)
        let path = directory.path("gate.vault")
        let admin = try await CustomerVault.create(at: path, schema: schema, policy: policy, administrator: "admin",
                                                   credential: .keyFile(try SecretBytes(randomCount: 32)))
        _ = try await admin.addCustomer(Fixtures.customer(1))
        let key = try SecretBytes(randomCount: 32)
        _ = try await admin.addPrincipal("nobody", role: "nobody", credential: .keyFile(key))
        let nobody = try await CustomerVault.open(at: path, principal: "nobody", credential: .keyFile(key))
        let file = try directory.write("one.csv", "name,email\nA B,ab@example.com\n")
        func deniedEntries() async throws -> Int {
            try await admin.auditLog(filter: AuditFilter(principal: "nobody"), limit: 10_000).filter { $0.outcome == "denied" }.count
        }
        for (name, call) in Self.gatedCalls(nobody, file: file).sorted(by: { $0.key < $1.key }) {
            let before = try await deniedEntries()
            let error = await VaultError.caught(call)
            #expect(error?.code == .accessDenied, "\(name) was not refused: \(error?.message ?? "it succeeded")")
            #expect(try await deniedEntries() == before + 1, "\(name) did not log its refusal")
        }
    }

    @Test("only the gate reaches the store; only the lifecycle and the credential-free readers open one")
    func noSideDoorToTheStore() throws {
        // The gate's store is private (the compiler refuses any other use); what is left to check
        // is who opens a store of their own, and that the tests' accessor stays out of the library.
        let opening: Set<String> = ["CustomerVault+Lifecycle.swift", "PolicyExplanation.swift", "AuditVerifier.swift", "CustomerVault+Backup.swift"]
        var offenders: [String] = []
        let files = FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil)!
        for case let url as URL in files where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            let name = url.lastPathComponent
            if name != "Gate.swift", text.contains("storeForTests") { offenders.append("\(name): storeForTests") }
            if !opening.contains(name), text.contains("SQLiteStore.") { offenders.append("\(name): opens an SQLiteStore") }
            if !opening.contains(name), name != "Gate.swift", text.range(of: #"\bstore\.(read|write|snapshot)\b"#, options: .regularExpression) != nil {
                offenders.append("\(name): uses a store directly")
            }
        }
        #expect(offenders.isEmpty, "store access outside the gate: \(offenders)")
    }
}
