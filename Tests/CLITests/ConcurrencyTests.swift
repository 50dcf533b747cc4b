import CustomerVault
import Foundation
import Testing
import VaultFileInspector

/// Four processes work on one vault at once: three `cvault` loops (adding, updating, searching and
/// reading) and this test process through the library (all four kinds of work). Every write any of
/// them acknowledged is present at the end, no user ever sees "database is locked", and the access
/// log verifies.
@Suite("Four processes on one vault", .enabled(if: ProcessInfo.processInfo.environment["CVAULT_SKIP_SCALE"] == nil))
struct ConcurrencyTests {
    /// How long the four workers run: 60 s, or CVAULT_CONCURRENCY_SECONDS.
    static let seconds = Double(ProcessInfo.processInfo.environment["CVAULT_CONCURRENCY_SECONDS"] ?? "") ?? 60
    static let seeds = 300

    /// What one worker did and saw.
    struct Tally: Sendable {
        var name: String
        var operations = 0
        var added: [(id: Int64, email: String)] = []
        var lastAddress: [Int64: String] = [:]
        var failures: [String] = []
    }

    static func email(_ kind: String, _ n: Int) -> String { "\(kind)-\(n)@example.com" }

    /// Runs a CLI loop on its own thread until the deadline.
    static func cliWorker(_ name: String, until deadline: Date, _ step: @escaping @Sendable (Int, inout Tally) throws -> Void) async -> Tally {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var tally = Tally(name: name)
                var n = 0
                while Date() < deadline {
                    do { try step(n, &tally) } catch { tally.failures.append("\(name) #\(n): \(error)") }
                    n += 1
                    tally.operations += 1
                }
                continuation.resume(returning: tally)
            }
        }
    }

    /// Records a CLI run that failed or mentioned a lock; returns whether it succeeded.
    static func check(_ result: CLI.Result, _ what: String, _ tally: inout Tally) -> Bool {
        let lockWords = ["locked", "SQLITE_BUSY", "busy"]
        if result.status != 0 || lockWords.contains(where: result.stderr.contains) {
            tally.failures.append("\(what): exit \(result.status): \(result.stderr.prefix(300))")
            return false
        }
        return true
    }

    @Test("60 s of adds, updates, searches and reads from CLI and library: 0 lost writes, 0 lock errors, a valid log")
    func fourProcesses() async throws {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace)
        #expect(try cli.run(["init"]).status == 0)
        let path = cli.environment["CVAULT_VAULT"]!
        let library = try await CustomerVault.open(at: path, principal: "admin", credential: .passphrase("cli test passphrase"))
        var seedIDs: [Int64] = []
        for n in 0..<Self.seeds {
            seedIDs.append(try await library.customers.add(["name": "Seed Person \(n)", "email": Self.email("seed", n), "region": "EU"]))
        }
        let ids = seedIDs
        let deadline = Date().addingTimeInterval(Self.seconds)
        let started = Date()

        // Each updater owns its own customers, so "the last acknowledged value" is well defined.
        async let adder = Self.cliWorker("cli-add", until: deadline) { n, tally in
            let email = Self.email("cli-add", n)
            let result = try cli.run(["customer", "add", "--name", "Cli Added \(n)", "--email", email, "--region", "UK", "--json"])
            guard Self.check(result, "add \(n)", &tally) else { return }
            let id = try JSONDecoder.cli.decode([String: Int64].self, from: Data(result.stdout.utf8))["id"]
            tally.added.append((try #require(id), email))
        }
        async let updater = Self.cliWorker("cli-update", until: deadline) { n, tally in
            let id = ids[n % 100]
            let address = "\(n) Update Road"
            if Self.check(try cli.run(["customer", "update", String(id), "--address", address]), "update \(id)", &tally) {
                tally.lastAddress[id] = address
            }
        }
        async let reader = Self.cliWorker("cli-read", until: deadline) { n, tally in
            let k = 200 + n % 100
            let found = try cli.run(["customer", "find", "--email", Self.email("seed", k), "--json"])
            if Self.check(found, "find seed \(k)", &tally) {
                let records = try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as? [[String: Any]]
                if records?.compactMap({ ($0["id"] as? NSNumber)?.int64Value }) != [ids[k]] {
                    tally.failures.append("find seed \(k) returned another record")
                }
            }
            _ = Self.check(try cli.run(["customer", "get", String(ids[(k + 37) % Self.seeds]), "--json"]), "get", &tally)
        }
        var mine = Tally(name: "library")
        var n = 0
        while Date() < deadline {
            do {
                switch n % 4 {
                case 0:
                    let email = Self.email("lib-add", n)
                    mine.added.append((try await library.customers.add(["name": "Lib Added \(n)", "email": email, "region": "US"]), email))
                case 1:
                    let id = ids[100 + n % 100]
                    try await library.customers.update(id, set: ["address": "\(n) Library Lane"])
                    mine.lastAddress[id] = "\(n) Library Lane"
                case 2:
                    let k = 200 + n % 100
                    if try await library.customers.find(field: "email", equalTo: Self.email("seed", k)).map(\.id) != [ids[k]] {
                        mine.failures.append("library find seed \(k) returned another record")
                    }
                default:
                    _ = try await library.customers.get(ids[n % Self.seeds])
                }
            } catch {
                mine.failures.append("library #\(n): \(error)")
            }
            n += 1
            mine.operations += 1
        }
        let tallies = [await adder, await updater, await reader, mine]
        let elapsed = Date().timeIntervalSince(started)
        try library.close()

        for tally in tallies {
            #expect(tally.failures.isEmpty, "\(tally.name): \(tally.failures.count) failures, first: \(tally.failures.first ?? "")")
            #expect(tally.operations > 0, "\(tally.name) did no work")
        }
        let summary = tallies.map { "\($0.name) \($0.operations) ops (\(String(format: "%.1f", Double($0.operations) / elapsed))/s)" }
        print("concurrency: \(String(format: "%.0f", elapsed)) s, " + summary.joined(separator: ", "))

        // Every acknowledged write is there, as acknowledged.
        let check = try await CustomerVault.open(at: path, principal: "admin", credential: .passphrase("cli test passphrase"))
        let added = tallies.flatMap(\.added)
        #expect(added.count > 0)
        var lost = 0
        for (id, email) in added where try await check.customers.find(field: "email", equalTo: email).map(\.id) != [id] { lost += 1 }
        #expect(lost == 0, "\(lost) of \(added.count) acknowledged adds are missing")
        let updates = tallies.reduce(into: [Int64: String]()) { $0.merge($1.lastAddress) { _, new in new } }
        #expect(updates.count > 0)
        var stale = 0
        for (id, address) in updates where try await check.customers.get(id).fields["address"] != address { stale += 1 }
        #expect(stale == 0, "\(stale) of \(updates.count) customers lack their last acknowledged update")
        #expect(try await check.customers.count() == Self.seeds + added.count, "no write appeared that was not acknowledged")
        try check.close()

        let verify = try cli.run(["audit", "verify"])
        #expect(verify.status == 0, "audit verify: \(verify.output.prefix(300))")
        let integrity = try VaultFileInspector(path).integrity()
        #expect(integrity == "ok")
    }
}
