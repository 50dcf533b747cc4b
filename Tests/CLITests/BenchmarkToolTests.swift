import Foundation
import Testing
import VaultFileInspector

/// `cvault-bench`, which `Benchmarks/run` calls, reads the vault's current layout: a layout change
/// that it misses fails here, not in the next benchmark run (it did once, after issue #19's v12).
@Suite("cvault-bench reads the current vault layout")
struct BenchmarkToolTests {
    @Test("floors counts every sealed view and index entry of an imported vault")
    func floors() throws {
        let (workspace, cli) = try ExitCodeTests.initialised()
        let customers = workspace.path("c.csv")
        try Data("name,email,phone\nAda,ada@example.com,+44 20 7946 0001\nBob,bob@example.com,\nCy,cy@example.com,+44 20 7946 0003\n".utf8)
            .write(to: URL(fileURLWithPath: customers))
        #expect(try cli.run(["import", "customers", customers]).status == 0)

        let bench = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("cvault-bench").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bench)
        process.arguments = ["floors", "--vault", cli.environment["CVAULT_VAULT"]!]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let floors = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Double])

        let inspector = try VaultFileInspector(cli.environment["CVAULT_VAULT"]!)
        let entries = try inspector.sealedValueCount()
        #expect(entries > 0)
        // Every entry has its full view; masked views come on top.
        #expect((floors["seals"] ?? 0) >= Double(entries))
        #expect(floors["digests"] == Double(try inspector.count("blind_indexes") + inspector.count("unique_indexes")))
        #expect((floors["kdf_ms"] ?? 0) > 0 && (floors["seal_ms_one_core"] ?? 0) > 0)
    }
}
