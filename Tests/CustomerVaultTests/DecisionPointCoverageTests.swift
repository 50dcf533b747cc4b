import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault

/// Proves there is one door: every public entry point of the vault handle and of its services
/// either asks the policy decision point (and so writes an access-log entry) or is listed here as
/// touching no personal data.
///
/// The entry points are enumerated by the compiler, not by reading the sources: the test extracts
/// the built module's symbol graph (`swift-symbolgraph-extract`, the tool behind DocC) and takes
/// every public method of the type that holds the gate and of every public type that holds it.
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
        "PrincipalService.changeCredential": "re-wraps the caller's own keys; passes the gate under a built-in rule and is logged",
        "static verifyAuditLog": "reads only the access log and public keys (no credential)",
        "static inspectBackup": "reads a backup file's public header; opens no vault",
        "static verifyBackup": "checks a backup file with a recovery key file; opens no vault and reads no value out",
        "static restoreBackup": "needs the backup key; is logged as vault.restore in the restored vault, through its gate, before it is put in place",
    ]

    /// Every gated entry point, called as a principal whose role is granted nothing, named
    /// `Service.method` (overloads share a name; each is a forwarder to the same gated body).
    static func gatedCalls(_ vault: CustomerVault, file: String) -> [String: () async throws -> Void] {
        [
            "CustomerService.add": { _ = try await vault.customers.add(Fixtures.customer(1)) },
            "CustomerService.get": { _ = try await vault.customers.get(1) },
            "CustomerService.find": { _ = try await vault.customers.find(field: "email", equalTo: "a@example.com") },
            "CustomerService.list": { _ = try await vault.customers.list() },
            "CustomerService.update": { try await vault.customers.update(1, set: ["region": "EU"]) },
            "CustomerService.delete": { try await vault.customers.delete(1) },
            "CustomerService.count": { _ = try await vault.customers.count() },
            "HistoryService.add": { _ = try await vault.history.add(.interactions, customerID: 1, values: [
                "occurred_at": "2026-01-01T00:00:00Z", "channel": "email", "summary": "x"]) },
            "HistoryService.records": { _ = try await vault.history.records(.transactions, customerID: 1) },
            "HistoryService.recordBehaviour": { _ = try await vault.history.recordBehaviour(customerID: 1, adding: BehaviourCounters(browse: 1)) },
            "HistoryService.behaviour": { _ = try await vault.history.behaviour(customerID: 1) },
            "ImportService.file": { _ = try await vault.imports.file(.customers, from: file) },
            "ImportService.behaviour": { _ = try await vault.imports.behaviour(from: file) },
            "ExportService.customers": { _ = try await vault.exports.customers(format: .csv) { _ in } },
            "ExportService.records": { _ = try await vault.exports.records(.interactions, format: .jsonl) { _ in } },
            "ExportService.all": { _ = try await vault.exports.all(format: .csv, to: file + "-export") },
            "ReportService.aggregate": { _ = try await vault.reports.aggregate() },
            "AuditService.log": { _ = try await vault.audit.log() },
            "AuditService.head": { _ = try await vault.audit.head() },
            "AuditService.termDigest": { _ = try await vault.audit.termDigest(field: "email", value: "a@example.com") },
            "AuditService.follow": { try await vault.audit.follow(after: 0) { _ in } },
            "KeyService.status": { _ = try await vault.keys.status() },
            "KeyService.rotate": { _ = try await vault.keys.rotate() },
            "KeyService.retire": { _ = try await vault.keys.retire() },
            "PrincipalService.add": { _ = try await vault.principals.add("x", role: "nobody", credential: .keyFile(try SecretBytes(randomCount: 32))) },
            "PrincipalService.list": { _ = try await vault.principals.list() },
            "PrincipalService.disable": { try await vault.principals.disable("admin") },
            "PrincipalService.update": { _ = try await vault.principals.update("admin", setting: ["team": "x"]) },
            "PrincipalService.applyPolicy": { _ = try await vault.principals.applyPolicy(vault.policy) },
            "BackupService.create": { _ = try await vault.backups.create(to: file + ".cvbackup") },
            "BackupService.verify": { _ = try await vault.backups.verify(file + ".cvbackup") },
            "BackupService.key": { _ = try await vault.backups.key(for: file + ".cvbackup") },
            "BackupService.exportKey": { try await vault.backups.exportKey(to: file + ".key") },
            "PrivacyService.erase": { _ = try await vault.privacy.erase(1) },
            "PrivacyService.exportSubject": { _ = try await vault.privacy.exportSubject(1) },
            "PrivacyService.erasureLedger": { _ = try await vault.privacy.erasureLedger() },
            "PrivacyService.applyRetention": { _ = try await vault.privacy.applyRetention(dryRun: true) },
            "PrivacyService.findDuplicates": { _ = try await vault.privacy.findDuplicates() },
            "PrivacyService.merge": { _ = try await vault.privacy.merge(keep: 1, drop: 2) },
            "IntegrityService.verify": { _ = try await vault.integrity.verify() },
        ]
    }

    /// The library's services as the compiler sees them: every public type that holds a vault
    /// handle (so reaches the gate through it), from the symbol graph of the built module.
    static func serviceTypes(_ graph: SymbolGraph) -> Set<String> {
        let publicTypes = Set(graph.symbols.filter { $0.accessLevel == "public" && $0.pathComponents.count == 1 }.map { $0.pathComponents[0] })
        return Set(graph.symbols.filter { $0.pathComponents.count == 2 && $0.pathComponents[1] == "vault" }.map { $0.pathComponents[0] })
            .intersection(publicTypes)
    }

    /// The public methods of the handle (`CustomerVault.name`, `static ` in front of type methods)
    /// and of every service (`Service.name`), by base name, from the symbol graph of the module
    /// the tests were built with.
    static func publicEntryPoints() throws -> Set<String> {
        let graph = try SymbolGraph.extract(module: "CustomerVault", minimumAccess: "internal")
        let owners = serviceTypes(graph).union(["CustomerVault"])
        return Set(graph.symbols.compactMap { symbol -> String? in
            guard symbol.accessLevel == "public", symbol.pathComponents.count == 2, owners.contains(symbol.pathComponents[0]) else { return nil }
            let name = String(symbol.pathComponents[1].prefix { $0 != "(" })
            let owner = symbol.pathComponents[0] == "CustomerVault" ? "" : symbol.pathComponents[0] + "."
            switch symbol.kind.identifier {
            case "swift.method": return owner + name
            case "swift.type.method": return "static " + owner + name
            default: return nil
            }
        })
    }

    @Test("the vault handle is the only type that holds the gate; the services hold the handle")
    func onlyTheHandleHoldsTheGate() throws {
        let graph = try SymbolGraph.extract(module: "CustomerVault", minimumAccess: "internal")
        let holders = Set(graph.symbols.filter { $0.pathComponents.count == 2 && $0.pathComponents[1] == "gate" }.map { $0.pathComponents[0] })
        #expect(holders == ["CustomerVault"], "types holding a gate: \(holders.sorted()); list their public methods in gatedCalls or exempt")
        let services = Self.serviceTypes(graph)
        #expect(services == ["CustomerService", "HistoryService", "ImportService", "ExportService", "ReportService", "KeyService",
                             "PrincipalService", "AuditService", "BackupService", "PrivacyService", "IntegrityService"],
                "public types holding a vault handle: \(services.sorted())")
        // The handle's own public surface is its lifecycle and the services, not their operations.
        let handleMethods = graph.symbols.filter {
            $0.accessLevel == "public" && $0.pathComponents.count == 2 && $0.pathComponents[0] == "CustomerVault" && $0.kind.identifier == "swift.method"
        }.map { String($0.pathComponents[1].prefix { $0 != "(" }) }
        #expect(Set(handleMethods) == ["withPurpose", "close", "checkpoint"], "public instance methods of the handle: \(handleMethods.sorted())")
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
        _ = try await admin.customers.add(Fixtures.customer(1))
        let key = try SecretBytes(randomCount: 32)
        _ = try await admin.principals.add("nobody", role: "nobody", credential: .keyFile(key))
        let nobody = try await CustomerVault.open(at: path, principal: "nobody", credential: .keyFile(key))
        let file = try directory.write("one.csv", "name,email\nA B,ab@example.com\n")
        func deniedEntries() async throws -> Int {
            try await admin.audit.log(filter: AuditFilter(principal: "nobody"), limit: 10_000).filter { $0.outcome == "denied" }.count
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
