public import Foundation

/// The package's own source files, for tests that check a rule over the code (which target may
/// speak SQL, which may speak CLI).
public enum SourceTree {
    /// The package root (this file is `Tests/VaultTestSupport/SourceTree.swift`).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A Swift source file: its path from the package root and its lines.
    public struct File: Sendable {
        public let path: String
        public let lines: [String]
    }

    /// Every `.swift` file under the folders `folders` (paths from the root, such as
    /// `Sources/VaultCore`), sorted by path.
    public static func swiftFiles(under folders: [String]) throws -> [File] {
        var files: [File] = []
        for folder in folders {
            let base = root.appendingPathComponent(folder)
            guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in enumerator where url.pathExtension == "swift" {
                let text = try String(contentsOf: url, encoding: .utf8)
                let path = folder + url.path.dropFirst(base.path.count)
                files.append(File(path: path, lines: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)))
            }
        }
        return files.sorted { $0.path < $1.path }
    }
}
