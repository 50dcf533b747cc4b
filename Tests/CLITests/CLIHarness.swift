import Foundation
import Testing
@_exported import VaultTestSupport

/// Runs the built `cvault` binary as a user would, capturing its output and peak memory.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Peak resident set size of the process, in KiB (from wait4's rusage).
        var maxRSSKiB: Int
        var output: String { stdout + stderr }
    }

    /// `.build/<triple>/debug/cvault`, beside the test bundle.
    static let binary: String = {
        if let override = ProcessInfo.processInfo.environment["CVAULT_BINARY"] { return override }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("cvault").path
    }()

    let workspace: Workspace
    var directory: URL { workspace.url }
    var environment: [String: String]

    /// Holds `workspace` alive for as long as the CLI is used.
    init(workspace: Workspace, passphrase: String? = "cli test passphrase") {
        self.workspace = workspace
        let directory = workspace.url
        var environment = ["PATH": "/usr/bin:/bin", "HOME": directory.path, "TMPDIR": directory.path, "LANG": "C.UTF-8",
                           "CVAULT_VAULT": directory.appendingPathComponent("cli.vault").path]
        environment["CVAULT_PASSPHRASE"] = passphrase
        self.environment = environment
    }

    /// Everything this CLI printed, for canary scans.
    let transcript = Transcript()

    @discardableResult
    func run(_ arguments: [String], extraEnvironment: [String: String] = [:], stdin: String? = nil) throws -> Result {
        let out = directory.appendingPathComponent(".out-\(UUID().uuidString)")
        let err = directory.appendingPathComponent(".err-\(UUID().uuidString)")
        let input = directory.appendingPathComponent(".in-\(UUID().uuidString)")
        try Data((stdin ?? "").utf8).write(to: input)
        defer { for file in [out, err, input] { try? FileManager.default.removeItem(at: file) } }
        let pid = try spawn(arguments, extraEnvironment: extraEnvironment, stdin: input.path, stdout: out.path, stderr: err.path)
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, 0, &usage) == pid else { throw CocoaError(.fileReadUnknown) }
        let result = Result(
            status: (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F),
            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
            maxRSSKiB: Int(usage.ru_maxrss))
        transcript.append(result.output)
        return result
    }

    /// Starts the binary without waiting (for kill tests). Output goes to the given files.
    func spawn(_ arguments: [String], extraEnvironment: [String: String] = [:], stdin: String = "/dev/null",
               stdout: String = "/dev/null", stderr: String = "/dev/null") throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = [Self.binary] + arguments
        let env = environment.merging(extraEnvironment) { $1 }.map { "\($0.key)=\($0.value)" }
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = env.map { strdup($0) } + [nil]
        defer { for pointer in cArgs + cEnv { free(pointer) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, Self.binary, &actions, nil, &cArgs, &cEnv)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        return pid
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

/// The CLI tests' working directory: a `TemporaryDirectory` (inputs go under `inputs/`).
typealias Workspace = TemporaryDirectory

extension TemporaryDirectory {
    /// Every file the vault or the CLI may have written: all files except the test's `inputs`.
    func filesToScan() throws -> [String] { files(skipping: "inputs") }
}

/// Counts occurrences of each needle (as UTF-8 and UTF-16LE, in several cases) in a haystack.
enum CanaryScan {
    static func forms(of canary: String) -> [[UInt8]] {
        let variants = Set([canary, canary.lowercased(), canary.uppercased(), canary.precomposedStringWithCanonicalMapping,
                            canary.decomposedStringWithCanonicalMapping])
        return variants.flatMap { variant -> [[UInt8]] in
            let utf16 = variant.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            return [Array(variant.utf8), utf16]
        }
    }

    static func occurrences(of canaries: [String], in bytes: [UInt8]) -> [String: Int] {
        let data = Data(bytes)
        var counts: [String: Int] = [:]
        for canary in canaries {
            for needle in forms(of: canary) where !needle.isEmpty {
                var searchRange = data.startIndex..<data.endIndex
                while let hit = data.range(of: Data(needle), in: searchRange) {
                    counts[canary, default: 0] += 1
                    searchRange = hit.lowerBound + 1..<data.endIndex
                }
            }
        }
        return counts
    }
}

/// Output collected from every run of one CLI handle.
final class Transcript: @unchecked Sendable {
    private var outputs: [String] = []
    private let lock = NSLock()

    func append(_ output: String) { lock.withLock { outputs.append(output) } }
    var all: String { lock.withLock { outputs.joined(separator: "\n") } }
}

extension JSONDecoder {
    /// Reads what `cvault --json` prints: snake_case keys (`customer_id`) onto the library's
    /// Swift names (`customerID`).
    static var cli: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            let key = path.last!.stringValue
            let parts = key.split(separator: "_")
            guard parts.count > 1 else { return AnyKey(key) }
            let camel = parts[0] + parts.dropFirst().map { $0 == "id" ? "ID" : $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            return AnyKey(String(camel))
        }
        return decoder
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// A line of `cvault export --format jsonl`: a flat object with `id`, the fields and `masked`.
struct ExportedCustomer {
    var id: Int64
    var fields: [String: String]

    init(_ line: some StringProtocol) throws {
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let id = object["id"] as? Int else {
            throw CocoaError(.coderReadCorrupt)
        }
        self.id = Int64(id)
        var fields: [String: String] = [:]
        for (key, value) in object where !["id", "created_at", "updated_at", "masked"].contains(key) {
            switch value {
            case let text as String: fields[key] = text
            case let flag as Bool where type(of: value) == type(of: true as Any): fields[key] = flag ? "true" : "false"
            case let number as NSNumber: fields[key] = number.stringValue
            default: continue
            }
        }
        self.fields = fields
    }
}
