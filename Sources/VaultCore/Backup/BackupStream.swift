package import Foundation
import VaultCrypto

/// What a backup pass wrote or checked.
public struct BackupReport: Sendable, Equatable, Codable {
    public var file: String
    public var header: BackupHeader
    /// Size of the backup file.
    public var bytes: Int64
    public var chunks: Int
}

/// Progress of a backup, verify or restore: snapshot bytes done out of the total.
public struct BackupProgress: Sendable {
    public var done: Int64
    public var total: Int64
}

/// Streams a snapshot file into the backup format and back, one chunk in memory at a time.
package enum BackupStream {
    /// Encrypts the SQLite snapshot at `snapshot` into a new file at `output` (mode 0600, written
    /// beside it and renamed into place only once complete and synced).
    package static func write(snapshot: String, to output: String, recipient: BackupRecipient, createdAt: Date,
                      chunkSize: Int = BackupFormat.chunkSize, progress: (@Sendable (BackupProgress) -> Void)?) throws -> BackupReport {
        let size = Int64((try FileManager.default.attributesOfItem(atPath: snapshot)[.size] as? NSNumber)?.int64Value ?? 0)
        let fileKey = try SecretBytes(randomCount: SecretStream.keyLength)
        let pusher = try SecretStream.Pusher(key: fileKey)
        let sealedFileKey = try fileKey.withUnsafeBytes { try SealedBox.seal($0, to: recipient.publicKey) }
        let header = BackupFormat.Header(vaultID: recipient.vaultID, createdAt: Int64(createdAt.timeIntervalSince1970),
                                         keyVersion: recipient.version, keyID: try recipient.keyID, chunkSize: UInt32(chunkSize),
                                         snapshotBytes: size, sealedFileKey: sealedFileKey, streamHeader: pusher.header)
        let headerBytes = try header.encoded()
        guard let input = FileHandle(forReadingAtPath: snapshot) else { throw VaultError.io("cannot read the snapshot \(snapshot)") }
        defer { try? input.close() }
        // A name of its own, so a run killed earlier never blocks this one (its leftover stays).
        let partial = output + ".partial-" + Hex.encode(SecureRandom.bytes(4))
        let out = try OutputFile(creating: partial)
        var finished = false
        defer { if !finished { try? FileManager.default.removeItem(atPath: partial) } }
        try out.write(headerBytes)
        guard chunkSize > 0, chunkSize + SecretStream.chunkOverhead <= BackupFormat.maximumChunkSize else {
            throw VaultError.invalidInput("backup chunk size \(chunkSize) is out of range")
        }
        let chunks = max(1, Int((size + Int64(chunkSize) - 1) / Int64(chunkSize)))
        var done: Int64 = 0
        // Two buffers for the whole file: a plaintext chunk (wiped at the end), and its frame
        // (4-byte length, then the sealed chunk).
        var plain = [UInt8](repeating: 0, count: chunkSize)
        var frame = [UInt8](repeating: 0, count: 4 + chunkSize + SecretStream.chunkOverhead)
        defer { wipe(&plain) }
        for index in 0..<chunks {
            let isFinal = index == chunks - 1
            let wanted = isFinal ? Int(size - done) : chunkSize
            let got = try plain.withUnsafeMutableBytes {
                try FileIO.readFully(input.fileDescriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<wanted]), name: "the snapshot")
            }
            guard got == wanted else { throw VaultError.io("the snapshot changed size while it was being written to the backup") }
            let sealedLength = try plain.withUnsafeBufferPointer { piece in
                try frame.withUnsafeMutableBufferPointer { frame in
                    try pusher.push(UnsafeBufferPointer(rebasing: piece[..<got]), into: UnsafeMutableBufferPointer(rebasing: frame[4...]),
                                    isFinal: isFinal, associatedData: index == 0 ? headerBytes : [])
                }
            }
            withUnsafeBytes(of: UInt32(sealedLength).bigEndian) { frame.replaceSubrange(0..<4, with: $0) }
            try frame.withUnsafeBytes { try out.write(UnsafeRawBufferPointer(rebasing: $0[..<(4 + sealedLength)])) }
            done += Int64(got)
            progress?(BackupProgress(done: done, total: size))
        }
        try out.syncAndClose()
        // link() refuses an existing path, so a file that appeared at the name meanwhile is never replaced.
        guard link(partial, output) == 0 else {
            throw errno == EEXIST ? VaultError.conflict("\(output) already exists; choose a new file name (backups never overwrite)")
                : VaultError.io("cannot move the backup into place at \(output): \(String(cString: strerror(errno)))")
        }
        unlink(partial)
        finished = true
        OutputFile.syncDirectory(of: output)
        let bytes = Int64(headerBytes.count) + Int64(chunks) * Int64(4 + SecretStream.chunkOverhead) + size
        return BackupReport(file: output, header: header.description, bytes: bytes, chunks: chunks)
    }

    /// Checks every chunk of a backup and the final tag; with `sink`, writes the snapshot there.
    /// Every failure is a ``VaultError`` naming the chunk and what is wrong with it.
    package static func read(_ path: String, key: BackupKey, sink: OutputFile?, progress: (@Sendable (BackupProgress) -> Void)?) throws -> BackupReport {
        let input = try BackupInput(path: path)
        let (header, headerBytes) = try BackupFormat.readHeader(input)
        let name = input.name
        guard header.vaultID == key.vaultID else {
            throw VaultError(.badCredential, "\(name) is a backup of vault \(Hex.encode(header.vaultID)); the backup key given is vault \(Hex.encode(key.vaultID))'s")
        }
        guard try header.keyID == key.keyID else {
            throw VaultError(.badCredential, "\(name) is sealed to backup key \(Hex.encode(header.keyID)) (version \(header.keyVersion)); the key given is \(Hex.encode(try key.keyID)) (version \(key.version))")
        }
        let fileKey: SecretBytes
        do {
            fileKey = try SealedBox.open(header.sealedFileKey, with: key.pair)
        } catch {
            throw VaultError.integrity("\(name): the sealed file key does not open with the backup key it names (header modified)")
        }
        let puller: SecretStream.Puller
        do {
            puller = try SecretStream.Puller(key: fileKey, header: header.streamHeader)
        } catch {
            throw VaultError.integrity("\(name): the stream header is not valid (header modified)")
        }
        var chunk = 0
        var done: Int64 = 0
        let limit = Int(header.chunkSize) + SecretStream.chunkOverhead
        // Two buffers for the whole file: a sealed chunk, and its plaintext (wiped at the end).
        var sealed = [UInt8](repeating: 0, count: limit)
        var plain = [UInt8](repeating: 0, count: Int(header.chunkSize))
        defer { wipe(&plain) }
        while true {
            let lengthBytes = try input.read(4)
            if lengthBytes.isEmpty {
                throw VaultError.integrity("\(name) ends after chunk \(chunk) without the final chunk (truncated file)")
            }
            guard lengthBytes.count == 4 else {
                throw VaultError.integrity("\(name) is cut inside the length of chunk \(chunk + 1) (truncated file)")
            }
            let length = Int(lengthBytes.reduce(0) { $0 << 8 | UInt32($1) })
            guard length >= SecretStream.chunkOverhead, length <= limit else {
                throw VaultError.integrity("\(name): chunk \(chunk + 1) claims \(length) bytes, outside \(SecretStream.chunkOverhead)…\(limit) (malformed or modified)")
            }
            let got = try sealed.withUnsafeMutableBytes { try input.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<length])) }
            guard got == length else {
                throw VaultError.integrity("\(name): chunk \(chunk + 1) is cut short, \(got) of \(length) bytes (truncated file)")
            }
            chunk += 1
            let plainLength: Int, isFinal: Bool
            do {
                (plainLength, isFinal) = try sealed.withUnsafeBufferPointer { sealed in
                    try plain.withUnsafeMutableBufferPointer { plain in
                        try puller.pull(UnsafeBufferPointer(rebasing: sealed[..<length]), into: plain, associatedData: chunk == 1 ? headerBytes : [])
                    }
                }
            } catch {
                throw VaultError.integrity("\(name): chunk \(chunk) failed authentication (modified, reordered, duplicated, from another backup\(chunk == 1 ? ", or the header was modified" : ""))")
            }
            guard isFinal || plainLength == Int(header.chunkSize) else {
                throw VaultError.integrity("\(name): chunk \(chunk) holds \(plainLength) bytes; only the final chunk may be shorter than \(header.chunkSize)")
            }
            done += Int64(plainLength)
            guard done <= header.snapshotBytes else {
                throw VaultError.integrity("\(name): more data than the \(header.snapshotBytes) bytes the header announces")
            }
            try plain.withUnsafeBytes { try sink?.write(UnsafeRawBufferPointer(rebasing: $0[..<plainLength])) }
            progress?(BackupProgress(done: done, total: header.snapshotBytes))
            if isFinal { break }
        }
        let trailing = try input.read(1)
        guard trailing.isEmpty else {
            throw VaultError.integrity("\(name): data follows the final chunk \(chunk) (trailing bytes appended or a chunk duplicated)")
        }
        guard done == header.snapshotBytes else {
            throw VaultError.integrity("\(name): \(done) bytes restored, the header announces \(header.snapshotBytes)")
        }
        return BackupReport(file: path, header: header.description, bytes: input.offset, chunks: chunk)
    }
}

/// Plain POSIX reads, into buffers the caller reuses.
package enum FileIO {
    /// Reads until `buffer` is full or the file ends; returns the bytes read.
    package static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, name: String) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var filled = 0
        while filled < buffer.count {
            let got = read(fd, base + filled, buffer.count - filled)
            if got < 0 {
                if errno == EINTR { continue }
                throw VaultError.io("cannot read \(name): \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            filled += got
        }
        return filled
    }
}

/// A new file written sequentially with mode 0600, synced before it is closed. It is never
/// opened through a symbolic link and never over an existing file (`O_EXCL | O_NOFOLLOW`: a link
/// planted at the path, even a dangling one, is refused like a file).
package final class OutputFile: @unchecked Sendable {
    private let fd: Int32
    package let path: String
    private var closed = false

    package init(creating path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw errno == EEXIST ? VaultError.conflict("\(path) already exists") : VaultError.io("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        // The mode asked for is 0600 whatever the umask could add; make sure of it.
        fchmod(fd, 0o600)
        self.path = path
    }

    deinit { if !closed { close(fd) } }

    package func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(fd, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw VaultError.io("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    package func syncAndClose() throws {
        guard fsync(fd) == 0 else { throw VaultError.io("cannot sync \(path): \(String(cString: strerror(errno)))") }
        closed = true
        guard close(fd) == 0 else { throw VaultError.io("cannot close \(path): \(String(cString: strerror(errno)))") }
    }

    /// Makes a rename in the directory of `path` durable.
    package static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
