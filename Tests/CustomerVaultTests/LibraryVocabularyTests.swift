import Foundation
import Testing
@testable import CustomerVault
import VaultTestSupport

/// The library is used by the CLI today and by a service next (issue #19): it says what to do
/// (``VaultError/Remedy``), and each front end says how in its own words. So no library file
/// names a CLI flag, a `cvault` command or an exit status.
@Suite("The library speaks no CLI")
struct LibraryVocabularyTests {
    /// Every library target (the CLI is the one front end that may speak CLI).
    static let libraryFolders = ["Sources/CustomerVault", "Sources/VaultCore"]
    /// The shipped policy and schema, embedded as text: their comments are the user's documentation
    /// of those files (they are `policies/*.yaml`, byte for byte).
    static let embeddedYAML: Set<String> = ["DefaultPolicy.swift", "DefaultSchema.swift"]
    static let patterns: [(String, String)] = [
        ("a flag", #"(?<![A-Za-z0-9_-])--[a-z][a-z0-9-]*"#),
        ("a cvault command", #"`cvault [a-z]"#),
        ("an exit status", #"(?i)\bexit (code|status)|\bexit [0-9]"#),
    ]

    @Test("no library file names a CLI flag, a `cvault` command or an exit status")
    func noCLIVocabulary() throws {
        var found: [String] = []
        var files = 0
        for file in try SourceTree.swiftFiles(under: Self.libraryFolders) where !Self.embeddedYAML.contains(where: file.path.hasSuffix) {
            files += 1
            for (number, text) in file.lines.enumerated() {
                for (what, pattern) in Self.patterns where text.range(of: pattern, options: .regularExpression) != nil {
                    found.append("\(file.path):\(number + 1): \(what): \(text.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(files > 50, "the scan reads the library (\(files) files)")
        #expect(found.isEmpty, "say it as a VaultError.Remedy or in library terms:\n\(found.joined(separator: "\n"))")
    }

    @Test("the scan catches each kind it looks for")
    func scanCatches() {
        let samples = ["throw VaultError.conflict(\"pass --force\")", "/// run `cvault verify`", "// a wrong path (exit 2)", "the exit code is 3"]
        for sample in samples {
            #expect(Self.patterns.contains { sample.range(of: $0.1, options: .regularExpression) != nil }, "not caught: \(sample)")
        }
        for fine in ["-- a SQL comment", "a cvault export", "x--y", "print(\"exited\")"] {
            #expect(!Self.patterns.contains { fine.range(of: $0.1, options: .regularExpression) != nil }, "false alarm: \(fine)")
        }
    }

    @Test("an error that names a fix carries it as a remedy, and its message no longer holds the flag")
    func remediesTravel() async throws {
        let directory = try TemporaryDirectory()
        let missing = await VaultError.caught { _ = try await CustomerVault.open(at: directory.path("none.vault"), principal: "admin", credential: .keyFile(try .init(randomCount: 32))) }
        #expect(missing?.remedy == .createVault && missing?.message.contains("`cvault") == false, "\(missing?.message ?? "opened")")
        let existing = try directory.write("taken.csv", "x\n")
        let taken = await VaultError.caught { _ = try PrivateOutputFile(path: existing, replace: false) }
        #expect(taken?.remedy == .replaceExisting && taken?.message.contains("--force") == false, "\(taken?.message ?? "created")")
    }
}
