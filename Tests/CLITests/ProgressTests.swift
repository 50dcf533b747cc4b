import Foundation
import Testing

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
        for part in ["import customers [", "rows/s", "ETA", "300 ok", "100%"] {
            #expect(shown.contains(part), "terminal output lacks \(part)")
        }
    }
}
