import ArgumentParser
import Foundation
import Testing
@testable import cvault

/// `cvault` parses a command line that starts with a leaf command's path by that leaf alone
/// (``CommandLineFastPath``); these tests hold it to the full parse.
@Suite("Command-line fast path")
struct CommandLineFastPathTests {
    /// The words of a tour command from `cvault` up to the first pipe, redirection or `&&`, quotes removed.
    static func words(_ command: String) -> [String]? {
        var words: [String] = [], current = "", quote: Character?, inWord = false
        for character in command {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character; inWord = true
            } else if character == " " {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(character); inWord = true
            }
        }
        if inWord { words.append(current) }
        guard let start = words.firstIndex(of: "cvault") else { return nil }
        let tail = words[(start + 1)...]
        return Array(tail.prefix { !["|", "&&", ";", ">", "2>", "2>&1", "<"].contains($0) && !$0.hasPrefix(">") })
    }

    static func dumped(_ command: any ParsableCommand) -> String {
        var text = ""
        dump(command, to: &text)
        return text
    }

    @Test("every command of the README tour parses by its leaf exactly as by the whole tree")
    func tourCommandsParseTheSame() throws {
        let readme = try String(contentsOf: JSONContractTests.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var compared = 0
        for step in try ReadmeTourTests.steps(readme) {
            guard let arguments = Self.words(step.command), !arguments.isEmpty else { continue }
            guard let full = try? CVault.parseAsRoot(arguments) else {
                #expect(CommandLineFastPath.parse(arguments) == nil, "README line \(step.line): the full parse refuses it, the fast path must too")
                continue
            }
            guard let fast = CommandLineFastPath.parse(arguments) else { continue }
            #expect(type(of: fast) == type(of: full), "README line \(step.line)")
            #expect(Self.dumped(fast) == Self.dumped(full), "README line \(step.line)")
            compared += 1
        }
        #expect(compared >= 30, "only \(compared) tour commands were parsed by the fast path")
    }

    @Test("a lookup, options in any order, repeated options and `--` parse the same way", arguments: [
        ["customer", "find", "--email", "a@example.com", "--vault", "v.vault", "--principal", "agent", "--key-file", "agent.key", "--purpose", "support_ticket"],
        ["customer", "find", "--json", "--vault", "v.vault", "--name", "Ann Lee"],
        ["customer", "add", "--name", "Ann", "--email", "a@example.com", "--field", "x=1", "--field", "y=2", "--vault", "v"],
        ["import", "customers", "c.csv", "--vault", "v", "--mode", "upsert", "--force", "--format", "csv"],
        ["audit", "verify", "--vault", "v", "--json"],
        ["customer", "get", "--vault", "v", "--", "7"],
    ])
    func sameParse(arguments: [String]) throws {
        let full = try CVault.parseAsRoot(arguments)
        let fast = try #require(CommandLineFastPath.parse(arguments))
        #expect(Self.dumped(fast) == Self.dumped(full))
    }

    @Test("help, a version request, a group, a typo, an unknown option and a missing value are left to the full parse", arguments: [
        ["customer", "find", "--help"], ["customer", "find", "-h"], ["help", "customer", "find"], ["--version"], ["customer"],
        ["customer", "fnd", "--email", "a@example.com"], ["customer", "find", "--emial", "a@example.com"], ["customer", "find", "--email"],
        ["customer", "find", "--generate-completion-script", "bash"], ["audit", "verify", "--vault"], [],
    ])
    func refusedLinesFallBack(arguments: [String]) {
        #expect(CommandLineFastPath.parse(arguments) == nil)
    }
}
