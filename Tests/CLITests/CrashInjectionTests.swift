import CustomerVault
import Foundation
import Testing
import VaultTestSupport
import VaultFileInspector

/// Crash injection: every kind of write — import, customer add, update, delete and erase, principal
/// add and disable, key rotation, backup create and restore — runs as a child `cvault` process and is
/// killed with SIGKILL at a random moment. After every trial the vault opens (a CLI read succeeds),
/// `PRAGMA integrity_check` is ok, `cvault audit verify` exits 0, nothing is half-applied, every
/// operation the child acknowledged (exit 0, or an import's committed progress) is there with its
/// effect, and a killed operation is all or nothing. Resumable operations (import, rotation) finish
/// when run again. Over 200 trials in all, most of them interrupted part-way.
///
/// Kill timing: each operation's uninterrupted run is timed first (`d`); half the kills then come
/// at a uniform moment in [0, d], half in [0.6 d, 1.1 d], where the writes are. Choices are drawn
/// from a seeded generator (set CVAULT_CRASH_SEED to replay them; the timing still depends on the
/// machine). Failure messages name ids, fields and counts, never a personal value or a credential.
@Suite("Crash injection: kill -9 at random moments of every write", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["CVAULT_SKIP_SCALE"] == nil))
struct CrashInjectionTests {
    enum Kind: String, CaseIterable {
        case importCSV = "import customers"
        case add = "customer add"
        case update = "customer update"
        case delete = "customer delete"
        case erase = "customer erase"
        case principalAdd = "principal add"
        case principalDisable = "principal disable"
        case rotate = "keys rotate"
        case backup = "backup create"
        case restore = "backup restore"
    }

    /// Trials (runs with a kill scheduled) per kind in the mixed run; `restore` runs on a vault of its own.
    static let plan: [(Kind, Int)] = [
        (.importCSV, 26), (.add, 10), (.update, 24), (.delete, 18), (.erase, 20),
        (.principalAdd, 18), (.principalDisable, 14), (.rotate, 22), (.backup, 18),
    ]
    static let restoreTrials = 40

    // MARK: - Randomness, time, child processes

    /// Both tests' choices derive from this: CVAULT_CRASH_SEED, or a random seed (printed).
    static let baseSeed: UInt64 = ProcessInfo.processInfo.environment["CVAULT_CRASH_SEED"].flatMap { UInt64($0) }
        ?? UInt64.random(in: 1...UInt64(UInt32.max))

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Half the kills anywhere in the run, half in its last part (the writes) or just after it.
    static func killDelay(_ duration: Double, using generator: inout SeededGenerator) -> Double {
        Bool.random(using: &generator)
            ? Double.random(in: 0...duration, using: &generator)
            : Double.random(in: (0.6 * duration)...(1.1 * duration), using: &generator)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0.1 : sorted[sorted.count / 2]
    }

    /// How one child run ended.
    struct ChildRun {
        var status: Int32
        /// Ended by the SIGKILL this harness sent, before it exited on its own.
        var killed: Bool
        var seconds: Double
        var stdout: String
        var stderr: String
        var succeeded: Bool { !killed && status == 0 }
    }

    /// Runs `cvault arguments`; with a delay, sends SIGKILL once it has passed (if still running).
    static func run(_ cli: CLI, _ arguments: [String], killAfter delay: Double? = nil) throws -> ChildRun {
        let out = cli.path(".child-\(UUID().uuidString).out"), err = cli.path(".child-\(UUID().uuidString).err")
        defer { for file in [out, err] { try? FileManager.default.removeItem(atPath: file) } }
        let limit = 120.0
        let deadline = min(delay ?? limit, limit)
        let start = now()
        let pid = try cli.spawn(arguments, stdout: out, stderr: err)
        var raw: Int32 = 0
        while true {
            if waitpid(pid, &raw, WNOHANG) == pid { break }
            let elapsed = now() - start
            if elapsed >= deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &raw, 0)
                if deadline >= limit { Issue.record("cvault \(arguments.prefix(2).joined(separator: " ")) still ran after \(Int(limit)) s") }
                break
            }
            usleep(UInt32(max(100, min(2_000, (deadline - elapsed) * 1e6))))
        }
        let seconds = now() - start
        let signal = raw & 0x7F
        let signaled = signal != 0 && signal != 0x7F
        return ChildRun(status: signaled ? 128 + signal : (raw >> 8) & 0xFF, killed: signaled && signal == SIGKILL, seconds: seconds,
                        stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                        stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    // MARK: - What the database holds (read-only, straight from SQLite)

    typealias Footprint = VaultFileInspector.Footprint
    typealias ImportProgress = VaultFileInspector.ImportProgress
    typealias StoreState = VaultFileInspector.StoreState

    /// Reads the vault file read-only and checks the invariants that hold whatever was killed.
    static func readStore(_ path: String) throws -> StoreState {
        let file = try VaultFileInspector(path, readOnly: true)
        defer { try? file.close() }
        return try file.storeState()
    }

    // MARK: - What the vault shows (in process, as the administrator)

    struct VaultView {
        var records: [Int64: [String: String]] = [:]
        var found: [String: [Int64]] = [:]
        var principals: [String: PrincipalInfo] = [:]

        func matches(_ email: String) -> [Int64] { found[email] ?? [] }
    }

    /// Opens the vault; with `listing`, reads every customer (every value must decrypt); looks
    /// `emails` up through the unique index (without `listing`, the customers found are the
    /// records read); lists the principals.
    static func view(_ path: String, key: String, listing: Bool = true, finding emails: [String] = []) async throws -> VaultView {
        let vault = try await CustomerVault.open(at: path, principal: "admin", credential: try Credential.keyFile(at: key))
        var view = VaultView()
        do {
            var after: Int64 = 0
            while listing {
                let page = try await vault.customers.list(limit: 10_000, after: after)
                guard let last = page.last else { break }
                for record in page { view.records[record.id] = record.fields }
                after = last.id
            }
            if !emails.isEmpty {
                let results = try await vault.customers.find(field: "email", anyOf: emails)
                view.found = results.mapValues { $0.map(\.id).sorted() }
                if !listing { for record in results.values.joined() { view.records[record.id] = record.fields } }
            }
            for info in try await vault.principals.list() { view.principals[info.name] = info }
        } catch {
            try? vault.close()
            throw error
        }
        try vault.close()
        return view
    }

    /// Customer ids in an erasure ledger sidecar file (empty when there is none).
    static func sidecar(_ path: String) throws -> Set<Int64> {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return Set(try data.split(separator: 0x0A).filter { !$0.isEmpty }.map { try JSONDecoder().decode(ErasureLedgerEntry.self, from: Data($0)).customer })
    }

    static func differingFields(_ a: [String: String]?, _ b: [String: String]?) -> [String] {
        let a = a ?? [:], b = b ?? [:]
        return Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    }

    struct Tally {
        var trials = 0
        var interrupted = 0
        /// Killed, yet the operation's effect (or part of a resumable one) was committed.
        var committedBeforeKill = 0
    }

    static func report(_ title: String, _ tally: [Kind: Tally], durations: [Kind: Double], seconds: Double) {
        var lines = ["\(title): \(Int(seconds)) s"]
        for kind in Kind.allCases {
            guard let entry = tally[kind] else { continue }
            lines.append("  \(kind.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(entry.trials) trials, \(entry.interrupted) interrupted, "
                         + "\(entry.committedBeforeKill) committed before the kill; uninterrupted run \(Int((durations[kind] ?? 0) * 1000)) ms")
        }
        let total = tally.values.reduce(into: Tally()) { $0.trials += $1.trials; $0.interrupted += $1.interrupted }
        lines.append("  total: \(total.trials) trials, \(total.interrupted) interrupted")
        print(lines.joined(separator: "\n"))
    }

    // MARK: - The mixed run: one vault, every write but restore, in random order

    /// Import files for the mixed run: rows by record number, as the e-mail the vault stores.
    struct ImportFile {
        var path: String
        var emails: [Int: String?]
        var lastRecord: Int
        var digest: Data?
        var started = false
        var finished = false
    }

    final class MixedRun {
        let workspace: Workspace
        var cli: CLI
        let vaultPath: String
        let adminKey: String
        let doraKey: String
        var generator: SeededGenerator
        var samples: [Kind: [Double]] = [:]
        var durations: [Kind: Double] = [:]
        var tally: [Kind: Tally] = [:]
        var files: [ImportFile] = []
        var number = 0

        /// The last state observed: every change in it is committed, so it must stay.
        var records: [Int64: [String: String]] = [:]
        var store = StoreState()

        // The model of acknowledged (and committed) operations, checked after every trial.
        var committedValues: [Int64: [String: String]] = [:]
        var acknowledgedDeletes: Set<Int64> = []
        var acknowledgedErasures: Set<Int64> = []
        var acknowledgedPrincipals: Set<String> = []
        var acknowledgedDisables: Set<String> = []
        /// Principals whose add, or disable, was committed (acknowledged or not): it must stay.
        var committedPrincipals: Set<String> = []
        var committedDisables: Set<String> = []
        var addedCustomers = 0
        var deletedCustomers = 0

        // Observations for the report (not failures).
        var sidecarGaps = 0
        var orphanKeyFiles = 0
        var backupLeftovers = 0
        /// Seconds spent per phase of the checks, for the report.
        var spent: [String: Double] = [:]

        func timed<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
            let start = CrashInjectionTests.now()
            defer { spent[phase, default: 0] += CrashInjectionTests.now() - start }
            return try body()
        }

        init(workspace: Workspace, seed: UInt64) throws {
            self.workspace = workspace
            cli = CLI(workspace: workspace, passphrase: nil)
            vaultPath = cli.environment["CVAULT_VAULT"]!
            adminKey = workspace.path("keys/admin.key")
            doraKey = workspace.path("keys/dora.key")
            generator = SeededGenerator(state: seed)
            for folder in ["keys", "backups"] {
                try FileManager.default.createDirectory(atPath: workspace.path(folder), withIntermediateDirectories: true)
            }
        }

        // MARK: Running and observing

        func describe(_ kind: Kind, _ run: ChildRun? = nil, calibrating: Bool) -> String {
            let how = run.map { $0.killed ? ", killed after \(Int($0.seconds * 1000)) ms" : ", exited \($0.status) after \(Int($0.seconds * 1000)) ms" } ?? ""
            return "\(calibrating ? "calibration" : "trial") \(number) (\(kind.rawValue)\(how))"
        }

        func execute(_ kind: Kind, _ arguments: [String], calibrating: Bool, expected duration: Double? = nil, sample: Bool = true) throws -> ChildRun {
            let delay: Double? = calibrating ? nil : CrashInjectionTests.killDelay(max(0.02, duration ?? durations[kind] ?? 0.1), using: &generator)
            let run = try timed("operations") { try CrashInjectionTests.run(cli, arguments, killAfter: delay) }
            if calibrating && sample {
                samples[kind, default: []].append(run.seconds)
                durations[kind] = CrashInjectionTests.median(Array((samples[kind] ?? []).suffix(5)))
            }
            return run
        }

        /// An uninterrupted run must have succeeded (imports exit 1 when they refused rows).
        func expectExit(_ label: String, _ run: ChildRun, allowed: Set<Int32> = [0]) {
            guard !run.killed else { return }
            #expect(allowed.contains(run.status), "\(label): exited \(run.status) without being killed: \(run.stderr.prefix(400))")
        }

        func count(_ kind: Kind, _ run: ChildRun, committed: Bool, calibrating: Bool) {
            guard !calibrating else { return }
            var entry = tally[kind] ?? Tally()
            entry.trials += 1
            if run.killed {
                entry.interrupted += 1
                if committed { entry.committedBeforeKill += 1 }
            }
            tally[kind] = entry
        }

        struct Observation {
            var store: StoreState
            var view: VaultView
            /// The customers read when not all were (nil: all were listed and opened).
            var sampled: Set<Int64>?
        }

        /// Checks everything that must hold after any trial; returns what it saw.
        ///
        /// The library reads every customer (all values must open) after rotations, every tenth
        /// trial and at the end; otherwise the customers of the model, the ones looked up and 100
        /// random ones, found by e-mail (the SQLite footprints cover every customer each time).
        func observe(_ label: String, finding emails: [String] = [], full: Bool = false) async throws -> Observation {
            let store = try timed("SQLite checks") { try CrashInjectionTests.readStore(vaultPath) }
            for problem in store.problems { Issue.record("\(label): \(problem)") }
            let listing = full || number % 10 == 0
            var sampled: Set<Int64>?
            var lookups = emails
            if !listing {
                let ids = records.keys.sorted()
                var sample = Set(committedValues.keys)
                for _ in 0..<100 { if let id = ids.randomElement(using: &generator) { sample.insert(id) } }
                sampled = sample
                lookups += sample.sorted().compactMap { records[$0]?["email"] }
            }
            let started = CrashInjectionTests.now()
            // Each e-mail once: the same value twice in one lookup gets its matches twice.
            var seen = Set<String>()
            lookups = lookups.filter { seen.insert($0).inserted }
            let view = try await CrashInjectionTests.view(vaultPath, key: adminKey, listing: listing, finding: lookups)
            spent["library reads", default: 0] += CrashInjectionTests.now() - started
            if listing {
                let listedAll = Set(view.records.keys) == store.visible
                #expect(listedAll, "\(label): \(view.records.count) customers listed, \(store.visible.count) live rows stored")
            } else {
                let unlisted = view.records.keys.filter { !store.visible.contains($0) }
                #expect(unlisted.isEmpty, "\(label): customers found that are not live rows: \(unlisted.sorted().prefix(5))")
            }

            // The CLI opens the vault and reads a customer as the library does.
            if let id = view.records.keys.sorted().randomElement(using: &generator) {
                let read = try timed("CLI reads") { try cli.run(["customer", "get", String(id), "--json"]) }
                #expect(read.status == 0, "\(label): customer get \(id) exited \(read.status): \(read.stderr.prefix(300))")
                if read.status == 0 {
                    let record = try JSONDecoder.cli.decode(CustomerRecord.self, from: Data(read.stdout.utf8))
                    let same = record.fields == view.records[id]
                    #expect(same, "\(label): the CLI shows customer \(id) otherwise than the library (fields \(CrashInjectionTests.differingFields(record.fields, view.records[id])))")
                }
            }
            let verified = try timed("audit verify") { try cli.run(["audit", "verify"]) }
            #expect(verified.status == 0, "\(label): audit verify exited \(verified.status): \(verified.stderr.prefix(300))")

            for (name, row) in store.principals {
                let listed = view.principals[name]
                #expect(listed?.disabled == row.disabled && listed?.keys == row.grants.count,
                        "\(label): principal \(name) is listed otherwise than stored")
            }
            return Observation(store: store, view: view, sampled: sampled)
        }

        /// Every acknowledged operation is still there with its effect.
        func checkModel(_ label: String, _ store: StoreState, _ view: VaultView) {
            for (id, values) in committedValues.sorted(by: { $0.key < $1.key }) {
                // (Sampled observations look every model customer up by its e-mail.)
                let holds = view.records[id].map { record in values.allSatisfy { record[$0.key] == $0.value } } ?? false
                #expect(holds, "\(label): customer \(id) lost committed values (fields \(CrashInjectionTests.differingFields(values, view.records[id]?.filter { values[$0.key] != nil })))")
            }
            for id in acknowledgedDeletes.sorted() {
                #expect(store.footprints[id] == nil, "\(label): customer \(id), deleted with exit 0, is back")
            }
            for id in acknowledgedErasures.sorted() {
                #expect(store.footprints[id]?.erased == true && view.records[id] == nil, "\(label): customer \(id), erased with exit 0, is not erased")
            }
            #expect(acknowledgedPrincipals.isSubset(of: committedPrincipals) && acknowledgedDisables.isSubset(of: committedDisables))
            for name in committedPrincipals.union(committedDisables).sorted() {
                let how = acknowledgedPrincipals.contains(name) || acknowledgedDisables.contains(name) ? "with exit 0" : "before the kill"
                guard let row = store.principals[name] else { Issue.record("\(label): principal \(name), added \(how), is gone"); continue }
                if committedDisables.contains(name) {
                    #expect(row.disabled && row.grants.isEmpty, "\(label): principal \(name), disabled \(how), is enabled or holds keys")
                } else {
                    #expect(!row.disabled && !row.grants.isEmpty, "\(label): principal \(name), added \(how), is disabled or holds no keys")
                }
            }
            let expected = store.importedCustomers + addedCustomers - deletedCustomers
            #expect(store.footprints.count == expected,
                    "\(label): \(store.footprints.count) customers stored, but committed imports, adds and deletes make \(expected)")
        }

        /// Nothing but `touched` changed: every other customer shows the same values and has the same rows.
        func expectOthersUnchanged(_ label: String, _ after: Observation, except touched: Set<Int64> = [], indexesMayChange: Bool = false) {
            var changed: [Int64] = []
            for (id, fields) in records where !touched.contains(id) && (after.sampled?.contains(id) ?? true) && after.view.records[id] != fields {
                changed.append(id)
            }
            for id in after.view.records.keys where records[id] == nil && !touched.contains(id) { changed.append(id) }
            #expect(changed.isEmpty, "\(label): customers the operation did not touch show other values: \(changed.sorted().prefix(10))")
            var moved: [Int64] = []
            for (id, before) in store.footprints where !touched.contains(id) {
                guard let now = after.store.footprints[id] else { moved.append(id); continue }
                if indexesMayChange ? now.ignoringRotation != before.ignoringRotation : now != before { moved.append(id) }
            }
            for id in after.store.footprints.keys where store.footprints[id] == nil && !touched.contains(id) { moved.append(id) }
            #expect(moved.isEmpty, "\(label): customers the operation did not touch have other rows: \(moved.sorted().prefix(10))")
        }

        /// Takes the observed state as the new committed state, then checks the model against it.
        func adopt(_ after: Observation, _ label: String) {
            if after.sampled == nil {
                records = after.view.records
            } else {
                for id in records.keys where !after.store.visible.contains(id) { records[id] = nil }
                for (id, fields) in after.view.records { records[id] = fields }
            }
            store = after.store
            checkModel(label, store, after.view)
        }

        func pickCustomer(_ filter: (Int64) -> Bool = { _ in true }) -> Int64? {
            let candidates = records.keys.filter(filter).sorted()
            return candidates.randomElement(using: &generator) ?? records.keys.sorted().randomElement(using: &generator)
        }

        func token() -> String { String(UInt32.random(in: 0...UInt32.max, using: &generator), radix: 36) }

        // MARK: Setup

        func setUp() async throws {
            let data = try ScaleImportTests.generate(1_000, seed: 71, into: workspace, folder: "inputs/base")
            let created = try cli.run(["init", "--key-file-out", adminKey])
            #expect(created.status == 0, "init: \(created.stderr)")
            cli.environment["CVAULT_KEY_FILE"] = adminKey
            for kind in ["customers", "transactions", "interactions"] {
                let imported = try cli.run(["import", kind, data.appendingPathComponent("\(kind).csv").path])
                #expect(imported.status <= 1, "import \(kind): \(imported.stderr.prefix(300))")
            }
            for (name, role, extra) in [("dora", "dpo", [String]()), ("crash-ref", "support", ["--attr", "regions=EU"])] {
                let key = name == "dora" ? doraKey : workspace.path("keys/\(name).key")
                let added = try cli.run(["principal", "add", name, "--role", role, "--key-file-out", key] + extra)
                #expect(added.status == 0, "principal add \(name): \(added.stderr)")
                acknowledgedPrincipals.insert(name)
                committedPrincipals.insert(name)
            }
            // Files for the import trials, each a new set of customers.
            let needed = (CrashInjectionTests.plan.first { $0.0 == .importCSV }?.1 ?? 0) + 6
            for index in 0..<needed {
                let folder = try ScaleImportTests.generate(120, seed: 1_000 + index, into: workspace, folder: "inputs/import-\(index)")
                let path = folder.appendingPathComponent("customers.csv").path
                let reader = try CSVReader(fileURL: URL(fileURLWithPath: path))
                var emails: [Int: String?] = [:]
                var column: Int?
                var last = 1
                while let record = try reader.next() {
                    guard let column else { column = record.fields.firstIndex(of: "email"); continue }
                    emails[record.recordNumber] = column < record.fields.count ? Normalization.email(record.fields[column]) : nil
                    last = record.recordNumber
                }
                files.append(ImportFile(path: path, emails: emails, lastRecord: last))
            }
            let first = try await observe("setup", full: true)
            adopt(first, "setup")
        }

        /// Times each operation uninterrupted (these runs are checked as acknowledged operations).
        func calibrate() async throws {
            let runs: [(Kind, Int)] = [(.update, 3), (.delete, 3), (.erase, 3), (.add, 3), (.principalAdd, 4), (.principalDisable, 2),
                                        (.importCSV, 1), (.rotate, 1), (.backup, 1)]
            for (kind, times) in runs {
                for _ in 0..<times { try await trial(kind, calibrating: true) }
            }
        }

        func trial(_ kind: Kind, calibrating: Bool = false) async throws {
            number += 1
            switch kind {
            case .importCSV: try await importTrial(calibrating)
            case .add: try await addTrial(calibrating)
            case .update: try await updateTrial(calibrating)
            case .delete: try await deleteTrial(calibrating)
            case .erase: try await eraseTrial(calibrating)
            case .principalAdd: try await principalAddTrial(calibrating)
            case .principalDisable: try await principalDisableTrial(calibrating)
            case .rotate: try await rotateTrial(calibrating)
            case .backup: try await backupTrial(calibrating)
            case .restore: Issue.record("restore runs in its own test")
            }
        }

        // MARK: Import

        func importTrial(_ calibrating: Bool) async throws {
            let unfinished = files.indices.filter { files[$0].started && !files[$0].finished }
            let fresh = files.indices.filter { !files[$0].started }
            let resume = !calibrating && !unfinished.isEmpty && (fresh.isEmpty || Double.random(in: 0..<1, using: &generator) < 0.4)
            guard let index = resume ? unfinished.randomElement(using: &generator) : fresh.first else {
                Issue.record("no import file left")
                return
            }
            files[index].started = true
            let file = files[index]
            let before = file.digest.flatMap { store.imports[$0] } ?? ImportProgress(kind: "customers", recordsDone: 1, accepted: 0, rejected: 0,
                                                                                   finished: false, rejects: [])
            // Rows whose e-mail a customer already has are left as they are (counted as already stored).
            let existing = Set(records.values.compactMap { $0["email"]?.lowercased() })
            // A resumed import has only the rest of the file to do.
            let left = max(0.15, Double(file.lastRecord - before.recordsDone) / Double(max(1, file.lastRecord - 1)))
            let run = try execute(.importCSV, ["import", "customers", file.path, "--batch", "10"], calibrating: calibrating,
                                  expected: (durations[.importCSV] ?? 0.2) * left)
            let label = describe(.importCSV, run, calibrating: calibrating)
            expectExit(label, run, allowed: [0, 1])
            // Every e-mail of the file is looked up: those of committed rows must be found, no other.
            let after = try await observe(label, finding: file.emails.values.compactMap { $0 })

            if files[index].digest == nil {
                let new = Set(after.store.imports.keys).subtracting(store.imports.keys)
                #expect(new.count <= 1, "\(label): \(new.count) new import records for one file")
                files[index].digest = new.first
            }
            let digest = files[index].digest
            for (other, progress) in store.imports where other != digest {
                #expect(after.store.imports[other] == progress, "\(label): the progress of another import changed")
            }
            let progress = digest.flatMap { after.store.imports[$0] } ?? before
            #expect(progress.recordsDone >= before.recordsDone, "\(label): the import's progress went back")
            #expect(before.rejects.isSubset(of: progress.rejects), "\(label): refused rows of earlier batches are no longer listed")
            let newIDs = Set(after.store.footprints.keys).subtracting(store.footprints.keys)
            #expect(newIDs.count == progress.accepted - before.accepted,
                    "\(label): \(newIDs.count) customers stored, but the committed progress accepted \(progress.accepted - before.accepted)")
            // Exactly the rows of the committed batches, each once, none of the rows after them.
            let expected = stride(from: before.recordsDone + 1, through: progress.recordsDone, by: 1)
                .filter { record in !progress.rejects.contains(record) && !existing.contains(((file.emails[record] ?? nil) ?? "").lowercased()) }
                .map { file.emails[$0] ?? nil }
            let stored = newIDs.compactMap { after.view.records[$0]?["email"] }
            let exact = stored.count == newIDs.count && Set(stored) == Set(expected.compactMap { $0 }) && stored.count == expected.count
                && !expected.contains(nil)
            #expect(exact, "\(label): the \(stored.count) customers stored are not exactly the \(expected.count) accepted rows of records \(before.recordsDone + 1)...\(progress.recordsDone)")
            if !run.killed {
                #expect(progress.finished && progress.recordsDone == file.lastRecord, "\(label): the import exited \(run.status) but is not finished")
            }
            files[index].finished = progress.finished
            expectOthersUnchanged(label, after, except: newIDs)
            count(.importCSV, run, committed: progress.recordsDone > before.recordsDone, calibrating: calibrating)
            adopt(after, label)
        }

        /// Runs every unfinished import again: each must finish, with the same checks.
        func finishImports() async throws {
            for index in files.indices where files[index].started && !files[index].finished {
                number += 1
                let file = files[index]
                let before = file.digest.flatMap { store.imports[$0] }
                let existing = Set(records.values.compactMap { $0["email"]?.lowercased() })
                let run = try CrashInjectionTests.run(cli, ["import", "customers", file.path, "--batch", "10"])
                let label = "resume import \(index)"
                expectExit(label, run, allowed: [0, 1])
                let after = try await observe(label, finding: file.emails.values.compactMap { $0 })
                if files[index].digest == nil { files[index].digest = Set(after.store.imports.keys).subtracting(store.imports.keys).first }
                let progress = files[index].digest.flatMap { after.store.imports[$0] }
                #expect(progress?.finished == true && progress?.recordsDone == file.lastRecord, "\(label): the resumed import did not finish")
                let newIDs = Set(after.store.footprints.keys).subtracting(store.footprints.keys)
                #expect(newIDs.count == (progress?.accepted ?? 0) - (before?.accepted ?? 0), "\(label): stored customers do not match the progress")
                let rejects: Set<Int> = progress?.rejects ?? []
                let expected: [String] = stride(from: (before?.recordsDone ?? 1) + 1, through: progress?.recordsDone ?? 0, by: 1)
                    .filter { record in !rejects.contains(record) && !existing.contains(((file.emails[record] ?? nil) ?? "").lowercased()) }
                    .compactMap { file.emails[$0] ?? nil }
                let stored: [String] = newIDs.compactMap { after.view.records[$0]?["email"] }
                let sameSet: Bool = Set(stored) == Set(expected)
                let exact = sameSet && stored.count == newIDs.count && newIDs.count == expected.count
                #expect(exact, "\(label): the customers stored by the resumed import are not exactly its remaining accepted rows")
                expectOthersUnchanged(label, after, except: newIDs)
                files[index].finished = progress?.finished ?? false
                adopt(after, label)
            }
        }

        // MARK: Customers

        func addTrial(_ calibrating: Bool) async throws {
            let email = "crash-add-\(number)-\(token())@example.org"
            let values = ["name": "Crash Adder \(number)", "email": email, "address": "\(number) Adder Road", "region": "EU"]
            let run = try execute(.add, ["customer", "add", "--name", values["name"]!, "--email", email, "--address", values["address"]!,
                                         "--region", "EU", "--json"], calibrating: calibrating)
            let label = describe(.add, run, calibrating: calibrating)
            expectExit(label, run)
            let after = try await observe(label, finding: [email])
            let newIDs = Set(after.store.footprints.keys).subtracting(store.footprints.keys)
            let id = newIDs.first
            let complete = newIDs.count == 1 && id.flatMap { after.view.records[$0] }.map { record in values.allSatisfy { record[$0.key] == $0.value } } == true
            #expect(complete || newIDs.isEmpty, "\(label): the add left \(newIDs.count) new customers, or one without all its values")
            #expect(after.view.matches(email) == (complete ? [id!] : []), "\(label): a search by the new e-mail does not find exactly the added customer")
            if run.succeeded {
                #expect(complete, "\(label): an acknowledged add is not stored")
                let printed = try? JSONDecoder.cli.decode([String: Int64].self, from: Data(run.stdout.utf8))["id"]
                #expect(printed != nil && printed == id, "\(label): the printed id is not the stored customer")
            }
            if complete, let id {
                addedCustomers += 1
                committedValues[id, default: [:]].merge(values) { $1 }
            }
            expectOthersUnchanged(label, after, except: newIDs)
            count(.add, run, committed: complete, calibrating: calibrating)
            adopt(after, label)
        }

        func updateTrial(_ calibrating: Bool) async throws {
            guard let id = pickCustomer(), let old = records[id], let oldEmail = old["email"] else { Issue.record("no customer to update"); return }
            let email = "crash-update-\(number)-\(token())@example.org"
            let values = ["email": email, "address": "\(number) Crash Lane", "region": old["region"] == "EU" ? "UK" : "EU"]
            let run = try execute(.update, ["customer", "update", String(id), "--email", email, "--address", values["address"]!,
                                            "--region", values["region"]!], calibrating: calibrating)
            let label = describe(.update, run, calibrating: calibrating)
            expectExit(label, run)
            let after = try await observe(label, finding: [oldEmail, email])
            let now = after.view.records[id]
            let updated = now == old.merging(values) { $1 }
            let untouched = now == old && after.store.footprints[id] == store.footprints[id]
            #expect(updated || untouched, "\(label): customer \(id) is half-updated (fields \(CrashInjectionTests.differingFields(old, now)) changed)")
            #expect(after.view.matches(email) == (updated ? [id] : []) && after.view.matches(oldEmail) == (updated ? [] : [id]),
                    "\(label): the unique index of customer \(id) does not follow its e-mail")
            if run.succeeded { #expect(updated, "\(label): an acknowledged update is missing") }
            if updated { committedValues[id, default: [:]].merge(values) { $1 } }
            expectOthersUnchanged(label, after, except: [id])
            count(.update, run, committed: updated, calibrating: calibrating)
            adopt(after, label)
        }

        func deleteTrial(_ calibrating: Bool) async throws {
            guard let id = pickCustomer({ id in self.store.footprints[id].map { $0.transactions + $0.interactions > 0 } ?? false }),
                  let old = records[id], let email = old["email"] else { Issue.record("no customer to delete"); return }
            let run = try execute(.delete, ["customer", "delete", String(id)], calibrating: calibrating)
            let label = describe(.delete, run, calibrating: calibrating)
            expectExit(label, run)
            let after = try await observe(label, finding: [email])
            let gone = after.store.footprints[id] == nil && after.view.records[id] == nil
            let untouched = after.view.records[id] == old && after.store.footprints[id] == store.footprints[id]
            #expect(gone || untouched, "\(label): customer \(id) is half-deleted: \(after.store.footprints[id].map { "\($0)" } ?? "no row")")
            #expect(after.view.matches(email) == (gone ? [] : [id]), "\(label): a search by e-mail disagrees with the delete of \(id)")
            if run.succeeded {
                #expect(gone, "\(label): an acknowledged delete left customer \(id)")
                acknowledgedDeletes.insert(id)
            }
            if gone {
                deletedCustomers += 1
                committedValues[id] = nil
            }
            expectOthersUnchanged(label, after, except: [id])
            count(.delete, run, committed: gone, calibrating: calibrating)
            adopt(after, label)
        }

        func eraseTrial(_ calibrating: Bool) async throws {
            guard let id = pickCustomer({ id in self.store.footprints[id].map { $0.transactions > 0 && $0.interactions > 0 } ?? false }),
                  let old = records[id], let email = old["email"], let before = store.footprints[id] else { Issue.record("no customer to erase"); return }
            let run = try execute(.erase, ["customer", "erase", String(id), "--principal", "dora", "--key-file", doraKey,
                                           "--purpose", "subject_request", "--reason", "crash injection trial"], calibrating: calibrating)
            let label = describe(.erase, run, calibrating: calibrating)
            expectExit(label, run)
            let after = try await observe(label, finding: [email])
            let now = after.store.footprints[id]
            // readStore already requires an erased row to hold nothing personal.
            let erased = now?.erased == true && after.view.records[id] == nil && after.store.ledger.contains(id)
                && now?.transactions == before.transactions
            let untouched = now == before && after.view.records[id] == old && !after.store.ledger.contains(id)
            #expect(erased || untouched, "\(label): customer \(id) is half-erased: \(now.map { "\($0)" } ?? "no row")")
            #expect(after.view.matches(email) == (erased ? [] : [id]), "\(label): a search by e-mail disagrees with the erasure of \(id)")
            let ledgerFile = try CrashInjectionTests.sidecar(vaultPath + ".erasures")
            if run.succeeded {
                #expect(erased, "\(label): an acknowledged erasure left customer \(id)")
                #expect(ledgerFile.contains(id), "\(label): the erasure of \(id) was acknowledged but is not in the ledger file")
                // An acknowledged erasure also writes the lines earlier killed erasures left out.
                let missing = after.store.ledger.subtracting(ledgerFile)
                #expect(missing.isEmpty, "\(label): \(missing.count) erasures in the vault's ledger are still missing from the ledger file")
                acknowledgedErasures.insert(id)
            } else if erased && !ledgerFile.contains(id) {
                sidecarGaps += 1
            }
            if erased { committedValues[id] = nil }
            expectOthersUnchanged(label, after, except: [id])
            count(.erase, run, committed: erased, calibrating: calibrating)
            adopt(after, label)
        }

        // MARK: Principals

        func principalAddTrial(_ calibrating: Bool, counted: Bool = true) async throws {
            let name = "crash-p\(number)"
            let key = workspace.path("keys/\(name).key")
            let run = try execute(.principalAdd, ["principal", "add", name, "--role", "support", "--attr", "regions=EU", "--key-file-out", key],
                                  calibrating: calibrating)
            let label = describe(.principalAdd, run, calibrating: calibrating)
            expectExit(label, run)
            let after = try await observe(label)
            let row = after.store.principals[name]
            if let row {
                let reference = after.store.principals["crash-ref"]?.grants
                #expect(!row.disabled && row.grants == reference, "\(label): principal \(name) is stored without the keyring of its role (\(row.grants.count) keys)")
                do {
                    let vault = try await CustomerVault.open(at: vaultPath, principal: name, credential: try Credential.keyFile(at: key))
                    try vault.close()
                } catch {
                    Issue.record("\(label): principal \(name) is stored, but its key file does not open the vault: \(error)")
                }
            } else if FileManager.default.fileExists(atPath: key) {
                orphanKeyFiles += 1
            }
            if run.succeeded {
                #expect(row != nil, "\(label): an acknowledged principal is missing")
                acknowledgedPrincipals.insert(name)
            }
            if row != nil { committedPrincipals.insert(name) }
            expectOthersUnchanged(label, after)
            if counted { count(.principalAdd, run, committed: row != nil, calibrating: calibrating) }
            adopt(after, label)
        }

        func principalDisableTrial(_ calibrating: Bool) async throws {
            var candidates = store.principals.filter { $0.key.hasPrefix("crash-p") && !$0.value.disabled }.keys.sorted()
            if candidates.isEmpty {
                try await principalAddTrial(true, counted: false)
                candidates = store.principals.filter { $0.key.hasPrefix("crash-p") && !$0.value.disabled }.keys.sorted()
            }
            guard let name = candidates.randomElement(using: &generator), let before = store.principals[name] else {
                Issue.record("no principal to disable")
                return
            }
            // Sometimes with --rotate: the disable commits, then a rotation of the fields it held runs.
            let rotate = !calibrating && store.unfinishedRotations == 0 && Double.random(in: 0..<1, using: &generator) < 0.3
            let run = try execute(.principalDisable, ["principal", "disable", name] + (rotate ? ["--rotate"] : []), calibrating: calibrating,
                                  expected: (durations[.principalDisable] ?? 0.1) + (rotate ? durations[.rotate] ?? 0.3 : 0))
            let label = describe(.principalDisable, run, calibrating: calibrating) + (rotate ? " --rotate" : "")
            expectExit(label, run)
            let after = try await observe(label, full: rotate)
            guard let row = after.store.principals[name] else {
                Issue.record("\(label): principal \(name) vanished")
                return
            }
            let disabled = row.disabled && row.grants.isEmpty
            let untouched = !row.disabled && row.grants == before.grants
            #expect(disabled || untouched, "\(label): principal \(name) is half-disabled (disabled \(row.disabled), \(row.grants.count) keys)")
            if disabled {
                let key = workspace.path("keys/\(name).key")
                if let vault = try? await CustomerVault.open(at: vaultPath, principal: name, credential: try Credential.keyFile(at: key)) {
                    try? vault.close()
                    Issue.record("\(label): disabled principal \(name) still opens the vault")
                }
            }
            if run.succeeded {
                #expect(disabled, "\(label): an acknowledged disable is missing")
                if rotate { #expect(after.store.unfinishedRotations == 0, "\(label): disable --rotate exited 0 with its rotation unfinished") }
                acknowledgedDisables.insert(name)
            }
            if disabled { committedDisables.insert(name) }
            expectOthersUnchanged(label, after, indexesMayChange: rotate)
            count(.principalDisable, run, committed: disabled, calibrating: calibrating)
            adopt(after, label)
            if rotate { try retireIfDone(label) }
        }

        // MARK: Rotation and backup

        func rotateTrial(_ calibrating: Bool) async throws {
            let resume = store.unfinishedRotations > 0
            let left = resume ? max(0.2, Double(store.onOlderVersions) / Double(max(1, store.sealedValues))) : 1
            let run = try execute(.rotate, ["keys", "rotate", resume ? "--resume" : "--all", "--batch", "500"], calibrating: calibrating,
                                  expected: (durations[.rotate] ?? 0.3) * left, sample: !resume)
            let label = describe(.rotate, run, calibrating: calibrating) + (resume ? " --resume" : "")
            expectExit(label, run)
            let after = try await observe(label, full: true)
            // Every value still opens to the same plaintext; only index entries come and go.
            expectOthersUnchanged(label, after, indexesMayChange: true)
            if run.succeeded {
                #expect(after.store.unfinishedRotations == 0 && after.store.onOlderVersions == 0,
                        "\(label): rotation exited 0 but \(after.store.onOlderVersions) values or index entries are under older versions")
            }
            let progressed = after.store.finishedRotations > store.finishedRotations || after.store.onOlderVersions != store.onOlderVersions
                || after.store.unfinishedRotations != store.unfinishedRotations
            count(.rotate, run, committed: progressed, calibrating: calibrating)
            adopt(after, label)
            try retireIfDone(label)
        }

        /// Retires old key versions once no rotation is unfinished (keeps keyrings small).
        func retireIfDone(_ label: String) throws {
            guard store.unfinishedRotations == 0, store.onOlderVersions == 0 else { return }
            let retired = try cli.run(["keys", "retire"])
            #expect(retired.status == 0, "\(label): keys retire after the rotation exited \(retired.status): \(retired.stderr.prefix(300))")
            store = try CrashInjectionTests.readStore(vaultPath)
            for problem in store.problems { Issue.record("\(label), after keys retire: \(problem)") }
        }

        func backupTrial(_ calibrating: Bool) async throws {
            let name = "b\(number).cvbackup"
            let file = workspace.path("backups/\(name)")
            let run = try execute(.backup, ["backup", "create", file], calibrating: calibrating)
            let label = describe(.backup, run, calibrating: calibrating)
            expectExit(label, run)
            let after = try await observe(label)
            expectOthersUnchanged(label, after)
            let exists = FileManager.default.fileExists(atPath: file)
            if exists {
                let verified = try cli.run(["backup", "verify", file])
                #expect(verified.status == 0, "\(label): the backup file exists but does not verify: \(verified.stderr.prefix(300))")
            }
            if run.succeeded {
                #expect(exists, "\(label): backup create exited 0 but there is no backup file")
                // A finished backup swept the snapshots killed runs left beside the vault, and
                // wrote every erasure of the vault's ledger to the ledger file.
                let vaultDirectory = (vaultPath as NSString).deletingLastPathComponent
                let snapshots = try FileManager.default.contentsOfDirectory(atPath: vaultDirectory).filter { $0.contains(".backup-snapshot-") }
                #expect(snapshots.isEmpty, "\(label): \(snapshots.count) snapshots of killed backups are left beside the vault")
                let missing = after.store.ledger.subtracting(try CrashInjectionTests.sidecar(vaultPath + ".erasures"))
                #expect(missing.isEmpty, "\(label): \(missing.count) erasures are missing from the ledger file after a backup")
            }
            // Temporary files a kill left beside the backup (reported, then removed to save space).
            // Only encrypted partial backups may be there: the plain snapshot lives beside the vault.
            let directory = workspace.path("backups")
            for leftover in try FileManager.default.contentsOfDirectory(atPath: directory) where leftover.hasPrefix(name + ".") {
                #expect(leftover.hasPrefix(name + ".partial-"), "\(label): a killed backup left \(leftover) beside the backup")
                backupLeftovers += 1
                try FileManager.default.removeItem(atPath: directory + "/" + leftover)
            }
            try? FileManager.default.removeItem(atPath: file)
            count(.backup, run, committed: exists, calibrating: calibrating)
            adopt(after, label)
        }

        /// After the trials: resumable work finishes when run again; keys are all on one version.
        func finish() async throws {
            try await finishImports()
            if store.unfinishedRotations > 0 {
                let finished = try CrashInjectionTests.run(cli, ["keys", "rotate", "--resume"])
                #expect(finished.status == 0, "keys rotate --resume after the trials exited \(finished.status): \(finished.stderr.prefix(300))")
                let after = try await observe("resume rotation", full: true)
                expectOthersUnchanged("resume rotation", after, indexesMayChange: true)
                adopt(after, "resume rotation")
            }
            #expect(store.unfinishedRotations == 0 && store.onOlderVersions == 0, "a rotation is left unfinished after --resume")
            let status = try cli.run(["keys", "status", "--json"])
            let keys = try JSONDecoder.cli.decode(KeysReport.self, from: Data(status.stdout.utf8))
            #expect(keys.rotationInProgress == nil)
            try retireIfDone("final")
            let final = try await observe("final", full: true)
            expectOthersUnchanged("final", final)
            adopt(final, "final")
            let backup = workspace.path("backups/final.cvbackup")
            #expect(try cli.run(["backup", "create", backup]).status == 0)
            #expect(try cli.run(["backup", "verify", backup]).status == 0)
        }
    }

    @Test("kill -9 at random moments of import, add, update, delete, erase, principal add and disable, rotation and backup, on one vault")
    func mixedWrites() async throws {
        let started = Self.now()
        let seed = Self.baseSeed &+ 1
        print("crash injection (mixed): seed \(Self.baseSeed) (set CVAULT_CRASH_SEED to replay the choices)")
        let workspace = try Workspace()
        let run = try MixedRun(workspace: workspace, seed: seed)
        var phase = Self.now()
        try await run.setUp()
        run.spent["setup", default: 0] += Self.now() - phase
        phase = Self.now()
        try await run.calibrate()
        run.spent["calibration", default: 0] += Self.now() - phase
        phase = Self.now()

        var schedule = Self.plan.flatMap { kind, count in Array(repeating: kind, count: count) }
        schedule.shuffle(using: &run.generator)
        var done: [Kind: Int] = [:]
        for kind in schedule {
            try await run.trial(kind)
            // Time each operation again now and then: the vault grows and the machine's load changes.
            done[kind, default: 0] += 1
            if done[kind]! % 10 == 0 { try await run.trial(kind, calibrating: true) }
        }
        run.spent["trials", default: 0] += Self.now() - phase
        phase = Self.now()
        try await run.finish()
        run.spent["finish", default: 0] += Self.now() - phase

        Self.report("crash injection (mixed)", run.tally, durations: run.durations, seconds: Self.now() - started)
        print("  killed after the commit, before the erasure ledger file was written: \(run.sidecarGaps); "
              + "key files left by killed principal adds: \(run.orphanKeyFiles); temporary files left by killed backups: \(run.backupLeftovers)")
        print("  seconds spent: " + run.spent.sorted { $0.key < $1.key }.map { "\($0.key) \(Int($0.value))" }.joined(separator: ", "))
        let trials = run.tally.values.map(\.trials).reduce(0, +)
        let interrupted = run.tally.values.map(\.interrupted).reduce(0, +)
        #expect(trials == Self.plan.map(\.1).reduce(0, +))
        #expect(interrupted * 4 >= trials, "only \(interrupted) of \(trials) kills interrupted an operation")
        for (kind, planned) in Self.plan {
            #expect((run.tally[kind]?.interrupted ?? 0) >= min(3, planned / 4), "only \(run.tally[kind]?.interrupted ?? 0) kills interrupted \(kind.rawValue)")
        }
    }

    // MARK: - Restore

    /// What identifies a restored vault's content (not its access log, which reading it extends).
    struct Content: Equatable {
        var records: [Int64: [String: String]]
        var footprints: [Int64: Footprint]
        var ledger: Set<Int64>
        var principals: [String: Bool]
    }

    static func content(_ path: String, key: String, _ label: String) async throws -> Content {
        let store = try readStore(path)
        for problem in store.problems { Issue.record("\(label): \(problem)") }
        let view = try await Self.view(path, key: key)
        return Content(records: view.records, footprints: store.footprints, ledger: store.ledger,
                       principals: store.principals.mapValues(\.disabled))
    }

    @Test("kill -9 during backup restore, to new paths and over a restored vault: the target is absent or the whole of one backup")
    func restores() async throws {
        let started = Self.now()
        let seed = Self.baseSeed &+ 2
        print("crash injection (restore): seed \(Self.baseSeed) (set CVAULT_CRASH_SEED to replay the choices)")
        var generator = SeededGenerator(state: seed)
        let workspace = try Workspace()
        let data = try ScaleImportTests.generate(1_500, seed: 73, into: workspace, folder: "inputs/data")
        var cli = CLI(workspace: workspace, passphrase: nil)
        let adminKey = workspace.path("admin.key"), doraKey = workspace.path("dora.key")
        #expect(try cli.run(["init", "--key-file-out", adminKey]).status == 0)
        cli.environment["CVAULT_KEY_FILE"] = adminKey
        for kind in ["customers", "transactions", "interactions"] {
            #expect(try cli.run(["import", kind, data.appendingPathComponent("\(kind).csv").path]).status <= 1)
        }
        #expect(try cli.run(["principal", "add", "dora", "--role", "dpo", "--key-file-out", doraKey]).status == 0)
        let vaultPath = cli.environment["CVAULT_VAULT"]!

        // Two backups with different content: between them, erasures, deletes, updates and a principal.
        let backups = [workspace.path("one.cvbackup"), workspace.path("two.cvbackup")]
        #expect(try cli.run(["backup", "create", backups[0]]).status == 0)
        let ids = try await Self.view(vaultPath, key: adminKey).records.keys.sorted()
        let erased = Set([ids[2], ids[29], ids[299]])
        for id in erased.sorted() {
            #expect(try cli.run(["customer", "erase", String(id), "--principal", "dora", "--key-file", doraKey, "--purpose", "subject_request"]).status == 0)
        }
        for id in [ids[3], ids[39], ids[399]] { #expect(try cli.run(["customer", "delete", String(id)]).status == 0) }
        for id in [ids[4], ids[49], ids[499]] { #expect(try cli.run(["customer", "update", String(id), "--address", "\(id) Restore Road"]).status == 0) }
        #expect(try cli.run(["principal", "add", "pat", "--role", "support", "--attr", "regions=EU", "--key-file-out", workspace.path("pat.key")]).status == 0)
        #expect(try cli.run(["backup", "create", backups[1]]).status == 0)

        // What each backup restores to, from an uninterrupted restore (also the calibration).
        var contents: [Content] = []
        var samples: [Double] = []
        for (index, backup) in backups.enumerated() {
            let target = workspace.path("expected-\(index).vault")
            let restored = try Self.run(cli, ["backup", "restore", backup, "--to", target])
            #expect(restored.status == 0, "restore of backup \(index): \(restored.stderr.prefix(300))")
            samples.append(restored.seconds)
            contents.append(try await Self.content(target, key: adminKey, "expected restore \(index)"))
        }
        // (Compared into a Bool first: a failing #expect prints its operands, and these hold personal values.)
        let distinct = contents[0] != contents[1]
        #expect(distinct, "the two backups must restore to different content")
        #expect(contents[1].ledger == erased && contents[0].ledger == erased,
                "erasures made after the older backup are applied again when it is restored")
        var duration = Self.median(samples)

        var tally = Tally()
        var committed = 0
        var leftovers = 0
        let shared = workspace.path("restored.vault")
        var sharedHolds: Int?  // which backup the shared target holds (nil: none yet)
        for trial in 0..<Self.restoreTrials {
            if trial > 0 && trial % 10 == 0 {
                // Time an uninterrupted restore again (the machine's load changes); it must restore exactly.
                let backup = trial / 10 % 2
                let target = workspace.path("calibration-\(trial).vault")
                let restored = try Self.run(cli, ["backup", "restore", backups[backup], "--to", target])
                #expect(restored.status == 0, "calibration restore \(trial): \(restored.stderr.prefix(300))")
                let now = try await Self.content(target, key: adminKey, "calibration restore \(trial)")
                #expect(contents.firstIndex(of: now) == backup, "calibration restore \(trial) does not hold the backup restored")
                samples.append(restored.seconds)
                duration = Self.median(Array(samples.suffix(5)))
            }
            let backup = Int.random(in: 0...1, using: &generator)
            let fresh = trial % 2 == 1
            let target = fresh ? workspace.path("fresh-\(trial).vault") : shared
            let force = !fresh && sharedHolds != nil
            let run = try Self.run(cli, ["backup", "restore", backups[backup], "--to", target] + (force ? ["--force"] : []),
                                   killAfter: Self.killDelay(duration, using: &generator))
            let label = "restore trial \(trial) (backup \(backup) to \(fresh ? "a new path" : force ? "the restored vault, --force" : "the shared path"), "
                + (run.killed ? "killed after \(Int(run.seconds * 1000)) ms)" : "exited \(run.status))")
            if !run.killed { #expect(run.status == 0, "\(label): \(run.stderr.prefix(300))") }
            tally.trials += 1
            if run.killed { tally.interrupted += 1 }

            let allowed = fresh ? [backup] : [sharedHolds, backup].compactMap { $0 }
            if FileManager.default.fileExists(atPath: target) {
                let now = try await Self.content(target, key: adminKey, label)
                let holds = contents.firstIndex(of: now)
                #expect(holds.map { allowed.contains($0) } == true,
                        "\(label): the target holds \(holds.map { "backup \($0)" } ?? "neither backup whole"), expected one of \(allowed)")
                let verified = try cli.run(["audit", "verify", "--vault", target])
                #expect(verified.status == 0, "\(label): audit verify of the target exited \(verified.status): \(verified.stderr.prefix(300))")
                let read = try cli.run(["customer", "list", "--limit", "1", "--vault", target])
                #expect(read.status == 0, "\(label): the restored vault does not open for a read: \(read.stderr.prefix(300))")
                let sidecarPath = target + ".erasures"
                if FileManager.default.fileExists(atPath: sidecarPath) {
                    #expect(try Self.sidecar(sidecarPath) == now.ledger, "\(label): the target's ledger file does not match its ledger")
                }
                if run.killed && (fresh || holds != sharedHolds) { committed += 1 }
                if !fresh { sharedHolds = holds }
            } else {
                #expect(!run.succeeded, "\(label): restore exited 0 but the target does not exist")
                if !fresh { #expect(sharedHolds == nil, "\(label): the vault the restore was to replace is gone") }
            }
            if fresh && FileManager.default.fileExists(atPath: target + ".restoring") { leftovers += 1 }
            if run.succeeded {
                let now = try await Self.content(target, key: adminKey, label)
                #expect(contents.firstIndex(of: now) == backup, "\(label): the restore exited 0 but the target is not the backup restored")
            }
        }
        tally.committedBeforeKill = committed

        // After the kills, restoring again works and leaves no temporary file.
        let again = try Self.run(cli, ["backup", "restore", backups[1], "--to", shared] + (sharedHolds != nil ? ["--force"] : []))
        #expect(again.status == 0, "restore after the kills: \(again.stderr.prefix(300))")
        let last = try await Self.content(shared, key: adminKey, "restore after the kills")
        let whole = last == contents[1]
        #expect(whole, "the restore after the kills does not hold the backup restored")
        #expect(!FileManager.default.fileExists(atPath: shared + ".restoring"))
        // The source vault the key came from is intact.
        for problem in try Self.readStore(vaultPath).problems { Issue.record("source vault: \(problem)") }
        #expect(try cli.run(["audit", "verify"]).status == 0)

        Self.report("crash injection (restore)", [.restore: tally], durations: [.restore: duration], seconds: Self.now() - started)
        print("  temporary .restoring files left at new paths by killed restores: \(leftovers)")
        #expect(tally.trials == Self.restoreTrials)
        #expect(tally.interrupted * 4 >= tally.trials, "only \(tally.interrupted) of \(tally.trials) kills interrupted a restore")
    }
}
