public import Foundation

/// A fresh directory for one test, removed when the last reference goes away.
///
/// Hold it for as long as the test uses the files (a `CLI` handle keeps its own reference).
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL

    public init(prefix: String = "cvault-tests") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `text` to `name` (creating folders on the way) and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = path(name)
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: file).deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Every regular file below the directory, except those under `skipping` (relative paths).
    public func files(skipping excluded: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: url.path)
        var files: [String] = []
        while let name = enumerator?.nextObject() as? String {
            if name.hasPrefix(excluded) { continue }
            var isDirectory: ObjCBool = false
            let full = path(name)
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue { files.append(full) }
        }
        return files
    }
}
