public import Foundation
import VaultCrypto

/// An output file that holds personal data or a secret (an export, a subject export, a rejects
/// list, a ledger, a key file).
///
/// It is created with mode 0600, never through a symbolic link and never over an existing file:
/// `O_CREAT | O_EXCL | O_NOFOLLOW`, so a link planted at the path (even a dangling one) is refused
/// like a file and its target is never written. With `replace`, an existing
/// file is replaced atomically instead: the content goes to a new file beside it (same
/// protections), which is synced and renamed over the path only once complete, so the old file
/// (or a link there, not its target) is replaced whole or not at all.
///
/// ```swift
/// let file = try PrivateOutputFile(path: "customers.csv", replace: false)
/// try file.write(Data("id,name\n".utf8))
/// try file.commit()
/// ```
public final class PrivateOutputFile: @unchecked Sendable {
    public let path: String
    private let file: OutputFile
    private let temporary: String?
    private var done = false

    /// - Throws: ``VaultError`` `.conflict` naming the path when it exists (and
    ///   `replace` is false), `.io` when it cannot be created.
    public init(path: String, replace: Bool) throws {
        self.path = path
        if replace {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw VaultError.invalidInput("\(path) is a directory; give a file name")
            }
            let temporary = path + ".partial-" + Hex.encode(SecureRandom.bytes(4))
            file = try OutputFile(creating: temporary)
            self.temporary = temporary
        } else {
            do {
                file = try OutputFile(creating: path)
            } catch let error as VaultError where error.code == .conflict {
                throw VaultError.conflict("\(path) already exists; choose another name, or replace it", remedy: .replaceExisting)
            }
            temporary = nil
        }
    }

    deinit { if !done { discard() } }

    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try file.write($0) }
    }

    /// Syncs the file and, when replacing, renames it over the path.
    public func commit() throws {
        try file.syncAndClose()
        if let temporary {
            guard rename(temporary, path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(atPath: temporary)
                done = true
                throw VaultError.io("cannot replace \(path): \(reason)")
            }
        }
        OutputFile.syncDirectory(of: path)
        done = true
    }

    /// Removes what was written (after a failure): nothing is left at the path.
    public func discard() {
        guard !done else { return }
        done = true
        try? FileManager.default.removeItem(atPath: temporary ?? path)
    }
}
