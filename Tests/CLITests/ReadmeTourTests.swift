import Foundation
import Testing

/// The README's CLI tour is run as written: every command of its `sh` blocks, in order, in a
/// fresh directory, each expected to exit 0 unless its comment says `exit N`.
@Suite("README tour")
struct ReadmeTourTests {
    struct Step {
        var line: Int
        var command: String
        var expectedStatus: Int32
    }

    /// The commands of the `sh` blocks between "## Tour of the CLI" and the next "### " heading
    /// that leaves the tour ("### CSV and JSON Lines …"), continuation lines joined.
    static func steps(_ readme: String) throws -> [Step] {
        let lines = readme.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "## Tour of the CLI"))
        let end = try #require(lines[start...].firstIndex { $0.hasPrefix("### CSV") })
        var steps: [Step] = []
        var inBlock = false
        var pending: (line: Int, text: String)?
        for index in start..<end {
            let text = lines[index]
            if text.hasPrefix("```") { inBlock = text == "```sh"; continue }
            guard inBlock else { continue }
            let joined = (pending?.text ?? "") + text
            let first = pending?.line ?? index + 1
            if joined.hasSuffix("\\") {
                pending = (first, String(joined.dropLast()))
                continue
            }
            pending = nil
            let (command, comment) = split(joined)
            guard !command.isEmpty else { continue }
            var status: Int32 = 0
            if let comment, comment.hasPrefix("exit "), let code = Int32(comment.dropFirst(5).prefix { $0.isNumber }) { status = code }
            steps.append(Step(line: first, command: command, expectedStatus: status))
        }
        return steps
    }

    /// A line's command and its trailing `# comment` (a `#` outside quotes after a space).
    static func split(_ line: String) -> (String, String?) {
        var quote: Character?
        var previous: Character = " "
        for (offset, character) in line.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" && previous == " " {
                let command = String(line.prefix(offset)).trimmingCharacters(in: .whitespaces)
                return (command, String(line.dropFirst(offset + 1)).trimmingCharacters(in: .whitespaces))
            }
            previous = character
        }
        return (line.trimmingCharacters(in: .whitespaces), nil)
    }

    /// The files the tour reads, as a user would have them.
    static func inputs(in directory: String) throws {
        var customers = "name,email,phone,address,age,gender,region,country,marketing_consent\n"
        let regions = ["EU", "UK", "US", "EU", "UK"], countries = ["FR", "GB", "US", "DE", "GB"]
        for n in 1...60 {
            customers += "Person Number\(n),person\(n)@example.com,+44 20 7946 \(String(format: "%04d", n)),\"\(n) High Street\nLondon\",\(20 + n % 50),"
                + "\(n % 2 == 0 ? "female" : "male"),\(regions[n % 5]),\(countries[n % 5]),\(n % 3 == 0)\n"
        }
        customers += "Broken Row,not-an-email,,,,,EU,FR,\n"
        var transactions = "customer_email,order_id,order_time,payment_method,amount,currency\n"
        var interactions = "customer_email,occurred_at,channel,summary\n"
        for n in 1...20 {
            transactions += "person\(n)@example.com,T-\(n),2026-05-\(String(format: "%02d", n)) 10:00,Credit Card,\(n).50,EUR\n"
            interactions += "person\(n)@example.com,2026-05-\(String(format: "%02d", n)) 11:00,Phone Call,Asked about order T-\(n)\n"
        }
        let files = ["customers.csv": customers, "transactions.csv": transactions, "interactions.csv": interactions,
                     "emails.txt": "person3@example.com\nnobody@example.com\nperson4@example.com\n",
                     "my-policy.yaml": try String(contentsOf: JSONContractTests.packageRoot.appendingPathComponent("policies/default.yaml"), encoding: .utf8)]
        for (name, text) in files { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
    }

    @Test("every command of the README's CLI tour, in order, in a fresh directory, exits as the README says")
    func tour() throws {
        let readme = try String(contentsOf: JSONContractTests.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let steps = try Self.steps(readme)
        #expect(steps.count >= 55, "the tour has \(steps.count) commands")
        let workspace = try Workspace()
        let directory = workspace.url.path
        try Self.inputs(in: directory)
        let bin = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().path
        var environment = ["PATH": "\(bin):/usr/bin:/bin", "HOME": directory, "TMPDIR": directory, "LANG": "C.UTF-8",
                           "CVAULT_PASSPHRASE": "tour passphrase, long enough to pass", "CVAULT_NEW_PASSPHRASE": "tour passphrase, long enough to pass"]
        var failures: [String] = []
        for step in steps {
            if step.command.hasPrefix("export "), let assignment = step.command.split(separator: " ").last, let equals = assignment.firstIndex(of: "=") {
                environment[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
                continue
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", step.command]
            process.currentDirectoryURL = workspace.url
            process.environment = environment
            let output = workspace.url.appendingPathComponent(".tour-\(step.line)")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try handle.close()
            if process.terminationStatus != step.expectedStatus {
                let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
                failures.append("README line \(step.line): `\(step.command)` exited \(process.terminationStatus), the README says \(step.expectedStatus): \(text.suffix(400))")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(steps.count) tour commands:\n\(failures.joined(separator: "\n"))")
    }
}
