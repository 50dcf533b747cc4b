import CustomerVault
import Foundation
import Testing

/// `cvault dedupe` on 100,000 generated customers with 1% planted duplicates of a person: the same
/// person under another e-mail, linked by the phone in another format or by the name in another
/// case and spacing with the same birth date or address.
@Suite("cvault dedupe at scale", .enabled(if: ProcessInfo.processInfo.environment["CVAULT_SKIP_SCALE"] == nil))
struct DedupeTests {
    @Test("every planted group is found, exactly, and no other group")
    func plantedDuplicates() throws {
        let workspace = try Workspace()
        let out = workspace.url.appendingPathComponent("inputs/data")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", ScaleImportTests.generator, "--customers", "100000", "--seed", "61",
                             "--person-duplicate-rate", "0.01", "--out", out.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let cli = CLI(workspace: workspace, passphrase: nil)
        let auth = ["--key-file", workspace.path("admin.key")]
        #expect(try cli.run(["init", "--key-file-out", workspace.path("admin.key")]).status == 0)
        let imported = try cli.run(["import", "customers", out.appendingPathComponent("customers.csv").path, "--json"] + auth)
        let report = try JSONDecoder.cli.decode(ImportReport.self, from: Data(imported.stdout.utf8))
        #expect(report.rejected == 0 && report.accepted == 101_000, "\(imported.stderr)")

        // The truth: record r (header = record 1) is customer r - 1, as every row was accepted.
        let planted = String(decoding: try Data(contentsOf: out.appendingPathComponent("expected_person_duplicates.txt")), as: UTF8.self)
            .split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(planted.count == 1_000)
        var parent: [Int64: Int64] = [:]
        func root(_ id: Int64) -> Int64 { var r = id; while let p = parent[r], p != r { r = p }; return r }
        var linkOf: [Int64: String] = [:]
        for line in planted {
            let (duplicate, original) = (Int64(line[0])! - 1, Int64(line[1])! - 1)
            parent[root(duplicate)] = root(original)
            linkOf[duplicate] = line[2]
        }
        var expected: [Int64: Set<Int64>] = [:]
        for id in Set(parent.keys).union(parent.values) { expected[root(id), default: []].insert(id) }

        let run = try cli.run(["dedupe", "--json"] + auth)
        #expect(run.status == 0, "\(run.stderr)")
        let groups = try JSONDecoder.cli.decode([DuplicateGroup].self, from: Data(run.stdout.utf8))
        let found = Set(groups.map { Set($0.customers) })
        let truth = Set(expected.values)
        #expect(found.subtracting(truth).isEmpty, "false groups: \(found.subtracting(truth).prefix(5))")
        #expect(truth.subtracting(found).isEmpty, "missed groups: \(truth.subtracting(found).prefix(5))")
        // Each group is found through the link that was planted in it.
        for group in groups {
            let planted = Set(group.customers.compactMap { linkOf[$0] })
            #expect(planted.isSubset(of: Set(group.links)), "group \(group.customers): planted \(planted), found \(group.links)")
        }
        // A role without plain access to the linking fields finds nothing it cannot see.
        #expect(try cli.run(["principal", "add", "m", "--role", "marketing", "--key-file-out", workspace.path("m.key")] + auth).status == 0)
        let limited = try cli.run(["dedupe", "--json", "--principal", "m", "--key-file", workspace.path("m.key")])
        let limitedGroups = limited.status == 0 ? try JSONDecoder.cli.decode([DuplicateGroup].self, from: Data(limited.stdout.utf8)) : []
        #expect(limited.status == 0 && limitedGroups.isEmpty, "\(limited.stderr)")
    }
}
