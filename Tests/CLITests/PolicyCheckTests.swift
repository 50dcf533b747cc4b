import Foundation
import Testing

/// `cvault policy check`: every malformed policy is refused with exit 2, without a crash, and with
/// at least one `file:line: message` error that names the problem.
@Suite("cvault policy check refuses malformed policies")
struct PolicyCheckTests {
    /// One malformed policy file.
    struct Case: Sendable, CustomTestStringConvertible {
        /// File name in the workspace (unique per case).
        var name: String
        var yaml: String
        /// Expected in the error message.
        var keyword: String
        /// Expected line of the error; nil for "missing X" problems, reported at the document start.
        var line: Int?
        /// With `line` nil: the least line accepted.
        var lineAtLeast = 0

        var testDescription: String { name }
    }

    /// A role block every case starts from, so only the malformed part differs.
    static let admin = """
        format: 1
        purposes:
          support_ticket: A ticket
        roles:
          admin:
            allow: ["*"]

        """

    /// Twenty distinct problems the policy loader itself reports, each with a line.
    static let cases: [Case] = [
        Case(name: "unknown-top-level-key.yaml", yaml: """
            format: 1
            colour: blue
            roles:
              admin:
                allow: ["*"]
            """, keyword: "unknown key 'colour'", line: 2),
        Case(name: "missing-format.yaml", yaml: """
            roles:
              admin:
                allow: ["*"]
            """, keyword: "missing 'format: 2'", line: nil),
        Case(name: "wrong-format.yaml", yaml: """
            format: 3
            roles:
              admin:
                allow: ["*"]
            """, keyword: "policy format 3 is not supported", line: 1),
        Case(name: "roles-missing.yaml", yaml: """
            format: 1
            purposes:
              support_ticket: A ticket
            """, keyword: "missing 'roles'", line: nil),
        Case(name: "unknown-action.yaml", yaml: admin + """
              support:
                allow: [customer.read, customer.teleport]
            """, keyword: "unknown action 'customer.teleport'", line: 8),
        Case(name: "unknown-purpose.yaml", yaml: admin + """
              support:
                allow:
                  - { action: customer.read, purposes: [support_ticket, curiosity] }
            """, keyword: "unknown purpose 'curiosity'", line: 9),
        Case(name: "empty-purposes.yaml", yaml: admin + """
              support:
                allow:
                  - { action: customer.read, purposes: [] }
            """, keyword: "empty purposes list", line: 9),
        Case(name: "unknown-field.yaml", yaml: admin + """
              support:
                allow: [customer.read]
                fields:
                  customers.shoe_size: { view: plain }
            """, keyword: "unknown field customers.shoe_size", line: 10),
        Case(name: "plain-attribute-grant.yaml", yaml: admin + """
              support:
                allow: [customer.read]
                fields:
                  customers.region: { view: plain }
            """, keyword: "plain attribute", line: 10),
        Case(name: "masked-without-mask.yaml", yaml: admin + """
              support:
                allow: [customer.read]
                fields:
                  customers.age: { view: masked }
            """, keyword: "has no mask", line: 10),
        Case(name: "search-without-index.yaml", yaml: admin + """
              support:
                allow: [customer.read, customer.search]
                fields:
                  customers.address: { view: plain, search: true }
            """, keyword: "has no blind index", line: 10),
        Case(name: "view-without-read.yaml", yaml: admin + """
              analyst:
                allow: [report.aggregate]
                fields:
                  customers.email: { view: plain }
            """, keyword: "can never apply", line: 10),
        Case(name: "write-without-write-action.yaml", yaml: admin + """
              reader:
                allow: [customer.read]
                fields:
                  customers.email: { view: plain, write: true }
            """, keyword: "write on customers.email can never apply", line: 10),
        Case(name: "allowed-and-denied.yaml", yaml: admin + """
              support:
                allow: [customer.read, customer.delete]
                deny: [customer.delete]
            """, keyword: "a deny wins", line: 8),
        Case(name: "row-condition-personal.yaml", yaml: admin + """
              support:
                allow: [customer.list]
                rows:
                  - { attribute: email, equals: "a@example.com" }
            """, keyword: "email is personal", line: 10),
        Case(name: "row-condition-unknown-attribute.yaml", yaml: admin + """
              support:
                allow: [customer.list]
                rows:
                  - { attribute: planet, in_principal: planets }
            """, keyword: "unknown customer attribute 'planet'", line: 10),
        Case(name: "row-condition-never-equal.yaml", yaml: admin + """
              support:
                allow: [customer.list]
                rows:
                  - { attribute: region, equals: "MARS" }
            """, keyword: "can never equal 'MARS'", line: 10),
        Case(name: "allow-is-a-mapping.yaml", yaml: admin + """
              support:
                allow:
                  customer.read: true
            """, keyword: "allow must be a list", line: 9),
        Case(name: "view-yes.yaml", yaml: admin + """
              support:
                allow: [customer.read]
                fields:
                  customers.email: { view: yes }
            """, keyword: "view must be plain, masked or none", line: 10),
        Case(name: "deep-nesting.yaml", yaml: admin + """
              support:
                allow: \(String(repeating: "[", count: 20))customer.read\(String(repeating: "]", count: 20))
            """, keyword: "nesting deeper than 16 levels", line: 8),
    ]

    /// Problems found by the YAML layer (Yams and `YAMLReader`) before the policy loader runs.
    static let yamlLayerCases: [Case] = [
        Case(name: "duplicate-role.yaml", yaml: admin + """
              support:
                allow: [customer.read]
              support:
                allow: [customer.list]
            """, keyword: "duplicate key support", line: nil, lineAtLeast: 7),
        Case(name: "invalid-syntax.yaml", yaml: admin + """
              support:
                allow: [customer.read
              other: [
            """, keyword: "did not find expected", line: 9),
        Case(name: "huge.yaml", yaml: admin + """
              support:
                description: \(String(repeating: "x", count: (1 << 20) + 16))
                allow: [customer.read]
            """, keyword: "larger than 1048576 bytes", line: nil),
        Case(name: "alias.yaml", yaml: admin + """
              support: &base
                allow: [customer.read]
              copy: *base
            """, keyword: "aliases", line: 7),
        // Anchor names may start with '-' (libyaml accepts letters, digits, '_' and '-').
        Case(name: "alias-dash-name.yaml", yaml: admin + """
              support: &-base
                allow: [customer.read]
              copy: *-base
            """, keyword: "aliases", line: nil, lineAtLeast: 7),
    ]

    /// A CLI that needs no vault: CVAULT_VAULT (preset by the harness) would make `policy check`
    /// read the schema of a vault that does not exist.
    static func cli(_ workspace: Workspace) -> CLI {
        var cli = CLI(workspace: workspace)
        cli.environment.removeValue(forKey: "CVAULT_VAULT")
        return cli
    }

    static func write(_ cases: [Case], into workspace: Workspace) throws -> [String] {
        try cases.map { try workspace.write("inputs/\($0.name)", $0.yaml + "\n") }
    }

    /// The `path:N: message` errors printed for `path`, as (N, message).
    static func errors(for path: String, in stderr: String) -> [(line: Int, message: String)] {
        stderr.split(separator: "\n").compactMap { raw in
            let prefix = "cvault: error: " + path + ":"
            guard raw.hasPrefix(prefix) else { return nil }
            let rest = raw.dropFirst(prefix.count)
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let line = Int(digits), rest.dropFirst(digits.count).hasPrefix(": ") else { return nil }
            return (line, String(rest.dropFirst(digits.count + 2)))
        }
    }

    /// Every line of stderr that mentions `path` (any shape), for messages.
    static func mentions(of path: String, in stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.contains(path) }
    }

    /// The shape, line and keyword expectations for one file.
    static func expectReported(_ testCase: Case, path: String, stderr: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let errors = errors(for: path, in: stderr)
        #expect(!errors.isEmpty, "\(testCase.name): no '\(path):N: ' line in:\n\(stderr)", sourceLocation: sourceLocation)
        let matching = errors.filter { $0.message.contains(testCase.keyword) }
        #expect(!matching.isEmpty, "\(testCase.name): no error mentions '\(testCase.keyword)':\n\(stderr)", sourceLocation: sourceLocation)
        if let line = testCase.line {
            #expect(matching.contains { $0.line == line }, "\(testCase.name): expected line \(line): \(matching)", sourceLocation: sourceLocation)
        } else {
            #expect(matching.contains { $0.line >= testCase.lineAtLeast },
                    "\(testCase.name): expected a line >= \(testCase.lineAtLeast): \(matching)", sourceLocation: sourceLocation)
        }
    }

    @Test("all twenty malformed files in one run: exit 2, and each file gets its own file:line: error")
    func allAtOnce() throws {
        let workspace = try Workspace()
        let cli = Self.cli(workspace)
        let paths = try Self.write(Self.cases, into: workspace)
        #expect(Set(Self.cases.map(\.name)).count == 20)
        let result = try cli.run(["policy", "check"] + paths)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.status < 128, "crashed with status \(result.status)")
        #expect(!result.stdout.contains(": ok"), "a malformed file was accepted: \(result.stdout)")
        for (testCase, path) in zip(Self.cases, paths) {
            Self.expectReported(testCase, path: path, stderr: result.stderr)
        }
    }

    @Test("one file with thirteen problems, in and across roles: every one reported with its line, in line order, text and JSON")
    func everyProblemOfOneFile() throws {
        let workspace = try Workspace()
        let cli = Self.cli(workspace)
        // (line, keyword) of each problem planted below.
        let planted: [(Int, String)] = [
            (2, "unknown key 'colour'"), (5, "purpose name 'Bad-Name'"), (7, "retention.transactions must be a period"),
            (8, "unknown retention kind 'invoices'"), (15, "unknown action 'customer.frobnicate'"), (16, "customer.read is allowed twice (also on line 14)"),
            (17, "unknown action 'customer.teleport'"), (19, "unknown field customers.shoe_size"), (20, "view must be plain, masked or none"),
            (22, "email is personal (sealed)"), (24, "needs 'equals' or 'in_principal'"), (25, "role name 'Sales Team'"),
            (28, "unknown key 'colour'"),
        ]
        let path = try workspace.write("inputs/many.yaml", """
            format: 2
            colour: blue
            purposes:
              support_ticket: A ticket
              Bad-Name: x
            retention:
              transactions: forever
              invoices: 2y
            roles:
              admin:
                allow: ["*"]
              support:
                allow:
                  - customer.read
                  - customer.frobnicate
                  - customer.read
                deny: [customer.teleport]
                fields:
                  customers.shoe_size: {view: plain}
                  customers.email: {view: sideways}
                rows:
                  - attribute: email
                    equals: x
                  - attribute: region
              Sales Team:
                allow: ["*"]
              marketing:
                colour: red
                allow: [customer.list]

            """)
        let text = try cli.run(["policy", "check", path])
        #expect(text.status == 2, "\(text.stderr)")
        let reported = Self.errors(for: path, in: text.stderr)
        #expect(reported.count == planted.count, "\(reported.count) problems reported for \(planted.count) planted:\n\(text.stderr)")
        #expect(reported.map(\.line) == reported.map(\.line).sorted(), "not in line order: \(reported.map(\.line))")
        for (line, keyword) in planted {
            #expect(reported.contains { $0.line == line && $0.message.contains(keyword) }, "line \(line) '\(keyword)' not reported:\n\(text.stderr)")
        }
        let json = try cli.run(["policy", "check", path, "--json"])
        #expect(json.status == 2)
        struct Result: Decodable { var file: String; var valid: Bool; var errors: [String] }
        let results = try JSONDecoder.cli.decode([Result].self, from: Data(json.stdout.utf8))
        #expect(results.count == 1 && results.first?.valid == false)
        #expect(results.first?.errors.count == planted.count, "\(json.stdout)")
        // Checking the same file again reports the same thing, byte for byte.
        #expect(try cli.run(["policy", "check", path]).stderr == text.stderr)
    }

    @Test("a file with thousands of problems: checking stops after 200, says so, and prints short lines")
    func manyProblemsStop() throws {
        let workspace = try Workspace()
        let cli = Self.cli(workspace)
        var yaml = "format: 2\npurposes:\n"
        for n in 0..<3_000 { yaml += "  p\(n): purpose \(n)\n" }
        yaml += "roles:\n  admin:\n    allow: [\"*\"]\n  support:\n    allow:\n"
        for n in 0..<800 { yaml += "      - { action: customer.read, purposes: [missing\(n)] }\n" }
        let path = try workspace.write("inputs/hostile.yaml", yaml)
        let (finished, status, stderr) = try Self.checkWithDeadline(cli, path, seconds: 20)
        #expect(finished && status == 2, "status \(status)")
        let lines = stderr.split(separator: "\n")
        #expect(lines.count <= 202 && lines.count >= 200, "\(lines.count) lines")
        #expect(stderr.contains("checking stopped after 200 problems"), "\(stderr.suffix(300))")
        #expect(lines.allSatisfy { $0.utf8.count < 1_000 }, "a line of \(lines.map(\.utf8.count).max() ?? 0) bytes")
    }

    @Test("each malformed file alone: exit 2, no crash, a file:line: error naming the problem", arguments: cases)
    func eachAlone(_ testCase: Case) throws {
        let workspace = try Workspace()
        let cli = Self.cli(workspace)
        let path = try #require(try Self.write([testCase], into: workspace).first)
        let result = try cli.run(["policy", "check", path])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.status < 128, "crashed with status \(result.status)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        Self.expectReported(testCase, path: path, stderr: result.stderr)
    }

    @Test("problems found by the YAML layer: exit 2, no crash, a file:line: error naming the problem", arguments: yamlLayerCases)
    func yamlLayer(_ testCase: Case) throws {
        let workspace = try Workspace()
        let cli = Self.cli(workspace)
        let path = try #require(try Self.write([testCase], into: workspace).first)
        let result = try cli.run(["policy", "check", path])
        #expect(result.status < 128, "crashed with status \(result.status)")
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        Self.expectReported(testCase, path: path, stderr: result.stderr)
    }

    /// Runs `cvault policy check FILE`, killing it after `seconds`.
    static func checkWithDeadline(_ cli: CLI, _ path: String, seconds: TimeInterval) throws -> (finished: Bool, status: Int32, stderr: String) {
        let stderrPath = cli.path(".laughs-\(UUID().uuidString).err")
        defer { try? FileManager.default.removeItem(atPath: stderrPath) }
        let pid = try cli.spawn(["policy", "check", path], stderr: stderrPath)
        var status: Int32 = 0
        var finished = false
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { finished = true; break }
            usleep(50_000)
        }
        if !finished {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
        }
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return (finished, (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F), stderr)
    }

    /// A "billion laughs" document: ten levels of ten aliases to the level below (10^10 nodes once
    /// expanded) in about 500 bytes.
    struct Laughs: Sendable, CustomTestStringConvertible {
        var name: String
        /// The text of level `level` (1...9), given the anchor names of it and the level below.
        var anchor: @Sendable (Int) -> String
        var line: @Sendable (Int) -> String
        var testDescription: String { name }

        var yaml: String {
            var lines = ["format: 1", "lol0: \(anchor(0)) [x, x, x, x, x, x, x, x, x, x]"]
            for level in 1..<10 { lines.append(line(level)) }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    static let laughs: [Laughs] = [
        Laughs(name: "plain anchor names", anchor: { "&a\($0)" }, line: { level in
            "lol\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]"
        }),
        Laughs(name: "anchor names starting with '-'", anchor: { "&-\($0)" }, line: { level in
            "lol\(level): &-\(level) [" + Array(repeating: "*-\(level - 1)", count: 10).joined(separator: ", ") + "]"
        }),
        Laughs(name: "tagged anchors, aliases after a two-line quoted scalar", anchor: { "!!seq &a\($0)" }, line: { level in
            "lol\(level): !!seq &a\(level) [\"q\n  q\", " + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]"
        }),
    ]

    @Test("a 'billion laughs' file (aliases, ~500 bytes) is refused within seconds", arguments: laughs)
    func billionLaughs(_ variant: Laughs) throws {
        let workspace = try Workspace()
        let cli = Self.cli(workspace)
        let path = try workspace.write("inputs/laughs.yaml", variant.yaml)
        #expect(variant.yaml.utf8.count < 1_000)
        let (finished, status, stderr) = try Self.checkWithDeadline(cli, path, seconds: 5)
        #expect(finished, "policy check still running after 5 s; killed")
        #expect(status == 2, "status \(status): \(stderr)")
        #expect(!Self.errors(for: path, in: stderr).isEmpty, "no '\(path):N: ' line in: \(stderr)")
        #expect(stderr.contains("aliases"), "\(stderr)")
    }

    @Test("a plain-scalar description holding ', *word*' is text, not an alias")
    func starInDescription() throws {
        let workspace = try Workspace()
        let cli = Self.cli(workspace)
        let path = try workspace.write("inputs/star.yaml", """
            format: 1
            roles:
              admin:
                description: Key custodian, *the* only one
                allow: ["*"]

            """)
        let result = try cli.run(["policy", "check", path])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("the shipped policies/default.yaml is valid")
    func shippedPolicy() throws {
        let workspace = try Workspace()
        let cli = Self.cli(workspace)
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../policies/default.yaml").standardizedFileURL.path
        let result = try cli.run(["policy", "check", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(file): ok (8 roles, 4 purposes)"), "\(result.stdout)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }
}
