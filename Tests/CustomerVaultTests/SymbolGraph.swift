import Foundation

/// The public API of a module as the compiler sees it: the symbol graph that
/// `swift-symbolgraph-extract` (the tool behind DocC) writes for the module the tests were built
/// with. Lets coverage tests enumerate entry points without parsing sources.
struct SymbolGraph: Decodable {
    struct Symbol: Decodable {
        struct Kind: Decodable { var identifier: String }
        var kind: Kind
        var pathComponents: [String]
        var accessLevel: String
    }

    var symbols: [Symbol]

    enum Failure: Error, CustomStringConvertible {
        case notFound(String)
        case extraction(String)
        var description: String {
            switch self {
            case .notFound(let what): "symbol graph: \(what) not found"
            case .extraction(let output): "swift-symbolgraph-extract failed: \(output)"
            }
        }
    }

    /// Extracts the graph of `module` (symbols of `minimumAccess` and wider) from the build the
    /// test binary belongs to (internal symbols need a build with testing enabled, as the tests'
    /// builds are).
    static func extract(module: String, minimumAccess: String = "public") throws -> SymbolGraph {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // The products directory holds Modules/; the scratch directory above it holds checkouts/.
        var directory = binary.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Modules/\(module).swiftmodule").path) {
            guard directory.pathComponents.count > 1 else { throw Failure.notFound("Modules/\(module).swiftmodule above \(binary.path)") }
            directory = directory.deletingLastPathComponent()
        }
        var scratch = directory
        while !FileManager.default.fileExists(atPath: scratch.appendingPathComponent("checkouts").path) {
            guard scratch.pathComponents.count > 1 else { throw Failure.notFound("the checkouts directory above \(directory.path)") }
            scratch = scratch.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
        let tool = ["/usr/bin/env", "swift-symbolgraph-extract"]
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("symbols-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: output) }
        #if arch(x86_64)
        let target = "x86_64-unknown-linux-gnu"
        #else
        let target = "aarch64-unknown-linux-gnu"
        #endif
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool[0])
        process.arguments = [tool[1], "-module-name", module, "-target", target, "-minimum-access-level", minimumAccess,
                             "-I", directory.appendingPathComponent("Modules").path,
                             // The C modules under the library: libsodium's and the SQLite GRDB links.
                             "-I", root.appendingPathComponent("Sources/CSodium").path,
                             "-I", scratch.appendingPathComponent("checkouts/GRDB.swift/Sources/GRDBSQLite").path,
                             "-output-dir", output.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let said = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let file = output.appendingPathComponent("\(module).symbols.json")
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: file.path) else {
            throw Failure.extraction(String(decoding: said.prefix(2_000), as: UTF8.self))
        }
        return try JSONDecoder().decode(SymbolGraph.self, from: Data(contentsOf: file))
    }
}
