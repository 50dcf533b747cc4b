import Foundation
import Testing
import VaultFileInspector

@Suite("Import progress display")
struct ProgressTests {
    @Test("a terminal gets a progress bar with rate and ETA; a pipe gets none")
    func progressOnlyOnTerminals() throws {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace)
        #expect(try cli.run(["init"]).status == 0)
        let rows = (1...300).map { "Person \($0),p\($0)@example.com" }.joined(separator: "\n")
        let csv = try workspace.write("inputs/c.csv", "name,email\n" + rows + "\n")

        let piped = try cli.run(["import", "customers", csv, "--batch", "100"])
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("ETA") && !piped.stderr.contains("\r"))

        // util-linux `script` runs the command on a pseudo-terminal and copies what it shows.
        let terminal = Process()
        terminal.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        let second = try workspace.write("inputs/d.csv", "name,email\n" + rows.replacingOccurrences(of: "@example", with: "@example2") + "\n")
        terminal.arguments = ["-qec", "\(CLI.binary) import customers \(second) --batch 100", "/dev/null"]
        terminal.environment = cli.environment
        let output = Pipe()
        terminal.standardOutput = output
        terminal.standardInput = FileHandle.nullDevice
        try terminal.run()
        let shown = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        terminal.waitUntilExit()
        #expect(terminal.terminationStatus == 0)
        for part in ["import customers [", "rows/s", "ETA", "300 ok", "100%", "took "] {
            #expect(shown.contains(part), "terminal output lacks \(part)")
        }
        #expect(!shown.contains("ETA 0m00s"), "a finished bar says how long it took, not ETA 0m00s")
    }

    @Test("Ctrl-C during an import says the committed batches are kept and how to resume, and the same command resumes")
    func interruptedImport() throws {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace)
        #expect(try cli.run(["init"]).status == 0)
        let rows = (1...20_000).map { "Person \($0),p\($0)@example.com" }.joined(separator: "\n")
        let csv = try workspace.write("inputs/c.csv", "name,email\n" + rows + "\n")
        let out = workspace.path("out.txt"), err = workspace.path("err.txt")
        let pid = try cli.spawn(["import", "customers", csv, "--batch", "200"], stdout: out, stderr: err)
        // Interrupt once the first batches are committed.
        let vault = cli.environment["CVAULT_VAULT"]!
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let stored = (try? VaultFileInspector(vault).count("customers")) ?? 0
            if stored >= 400 { break }
            usleep(20_000)
        }
        kill(pid, SIGINT)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let message = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect((status >> 8) & 0xFF == 130, "exit status \(status)")
        #expect(message.contains("interrupted: the batches committed so far are kept; run the same command again to resume"), "\(message)")
        let resumed = try cli.run(["import", "customers", csv, "--batch", "200"])
        #expect(resumed.status == 0 && resumed.stderr.contains("resumed an interrupted import"), "\(resumed.stderr)")
        #expect(try VaultFileInspector(vault).count("customers") == 20_000)
    }

    @Test("keys rotate --resume with nothing to resume says so and succeeds")
    func nothingToResume() throws {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace)
        #expect(try cli.run(["init"]).status == 0)
        let result = try cli.run(["keys", "rotate", "--resume"])
        #expect(result.status == 0 && result.stderr.contains("nothing to resume"), "\(result.status) \(result.stderr)")
        let json = try cli.run(["keys", "rotate", "--resume", "--json"])
        #expect(json.status == 0 && json.stdout.contains("\"resumed\":false"), "\(json.stdout)")
    }
}
