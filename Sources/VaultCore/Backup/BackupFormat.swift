import Foundation
import VaultCrypto

/// The public header of a backup file: readable without any key. No secret in it.
public struct BackupHeader: Sendable, Equatable, Codable {
    public var formatVersion: Int
    /// The vault the snapshot was taken from (hex).
    public var vaultID: String
    /// When the snapshot was taken (UTC, ISO 8601).
    public var createdAt: String
    /// Version of the vault's backup key the file key is sealed to.
    public var keyVersion: UInt32
    /// BLAKE2b-128 fingerprint of that backup public key (hex): which key opens this file.
    public var keyID: String
    /// Plaintext bytes per chunk (the last chunk may be shorter).
    public var chunkSize: Int
    /// Size of the SQLite snapshot inside.
    public var snapshotBytes: Int64
}

/// Backup file format 1 (all integers big-endian); SECURITY.md §4b describes it for independent
/// readers.
///
/// ```
/// offset 0    8 B   magic "CVBACKUP"
/// offset 8    u16   format version (1)
/// offset 10   u16   header body length N (160 in format 1)
/// offset 12   N B   body: vault id (16) ‖ created at, Unix seconds (i64) ‖ backup key version (u32)
///                   ‖ backup key id (16) ‖ chunk size (u32) ‖ snapshot size (i64)
///                   ‖ sealed file key (80: crypto_box_seal of 32 B to the backup public key)
///                   ‖ secretstream header (24)
/// offset 12+N 32 B  BLAKE2b-256 of bytes 0..<12+N (catches accidental damage before any key work)
/// then chunks:      u32 length L ‖ L bytes of crypto_secretstream_xchacha20poly1305 output
/// ```
/// The first chunk authenticates the whole header (magic to checksum) as associated data;
/// secretstream chains every later chunk to it; the last chunk carries TAG_FINAL and nothing may
/// follow it.
package enum BackupFormat {
    package static let magic = Array("CVBACKUP".utf8)
    package static let version: UInt16 = 1
    package static let bodyLength = 16 + 8 + 4 + 16 + 4 + 8 + (32 + SealedBox.sealOverhead) + SecretStream.headerLength
    package static let checksumLength = 32
    package static let prefixLength = 12
    package static var headerLength: Int { prefixLength + bodyLength + checksumLength }
    /// Plaintext per chunk: bounds memory on both sides whatever the vault's size.
    package static let chunkSize = 1 << 20
    /// The largest chunk length a reader accepts, so a forged length cannot make it allocate more.
    package static let maximumChunkSize = 16 << 20

    package struct Header {
        package var vaultID: [UInt8]
        package var createdAt: Int64
        package var keyVersion: UInt32
        package var keyID: [UInt8]
        package var chunkSize: UInt32
        package var snapshotBytes: Int64
        package var sealedFileKey: [UInt8]
        package var streamHeader: [UInt8]

        /// The header bytes exactly as stored, checksum included.
        package func encoded() throws -> [UInt8] {
            var bytes = BackupFormat.magic
            append(&bytes, BackupFormat.version)
            append(&bytes, UInt16(BackupFormat.bodyLength))
            bytes += vaultID
            append(&bytes, createdAt)
            append(&bytes, keyVersion)
            bytes += keyID
            append(&bytes, chunkSize)
            append(&bytes, snapshotBytes)
            bytes += sealedFileKey
            bytes += streamHeader
            guard bytes.count == BackupFormat.prefixLength + BackupFormat.bodyLength else {
                throw VaultError.io("backup header has \(bytes.count) bytes, expected \(BackupFormat.prefixLength + BackupFormat.bodyLength)")
            }
            return bytes + (try BLAKE2b.hash(bytes, outputLength: BackupFormat.checksumLength))
        }

        package var description: BackupHeader {
            BackupHeader(formatVersion: Int(BackupFormat.version), vaultID: Hex.encode(vaultID),
                         createdAt: Timestamps.instant(Date(timeIntervalSince1970: TimeInterval(createdAt))),
                         keyVersion: keyVersion, keyID: Hex.encode(keyID), chunkSize: Int(chunkSize), snapshotBytes: snapshotBytes)
        }
    }

    /// Reads and checks the header at the start of `file`. Every failure names what is wrong.
    package static func readHeader(_ file: BackupInput) throws -> (Header, bytes: [UInt8]) {
        let prefix = try file.read(prefixLength)
        guard prefix.count == prefixLength, Array(prefix[0..<8]) == magic else {
            throw prefix.count < 8 || Array(prefix[0..<8]) != magic
                ? VaultError.integrity("\(file.name) is not a cvault backup (no CVBACKUP signature)")
                : VaultError.integrity("\(file.name): the backup header is cut short (truncated file)")
        }
        let version = UInt16(prefix[8]) << 8 | UInt16(prefix[9])
        guard version == BackupFormat.version else {
            if version > BackupFormat.version {
                throw VaultError(.unsupported, "\(file.name) is backup format \(version), newer than this version reads (\(BackupFormat.version)); use a newer release")
            }
            throw VaultError.integrity("\(file.name): unknown backup format version \(version)")
        }
        let length = Int(UInt16(prefix[10]) << 8 | UInt16(prefix[11]))
        guard length == bodyLength else {
            throw VaultError.integrity("\(file.name): the backup header length is \(length), format 1 has \(bodyLength) (header modified)")
        }
        let rest = try file.read(bodyLength + checksumLength)
        guard rest.count == bodyLength + checksumLength else {
            throw VaultError.integrity("\(file.name): the backup header is cut short (truncated file)")
        }
        let headerBytes = prefix + rest
        let covered = Array(headerBytes[0..<(prefixLength + bodyLength)])
        guard try BLAKE2b.hash(covered, outputLength: checksumLength) == Array(headerBytes[(prefixLength + bodyLength)...]) else {
            throw VaultError.integrity("\(file.name): the backup header checksum does not match (header modified or damaged)")
        }
        var reader = ByteReader(Array(rest[0..<bodyLength]))
        let header = Header(vaultID: reader.take(16), createdAt: reader.int64(), keyVersion: reader.uint32(), keyID: reader.take(16),
                            chunkSize: reader.uint32(), snapshotBytes: reader.int64(), sealedFileKey: reader.take(32 + SealedBox.sealOverhead),
                            streamHeader: reader.take(SecretStream.headerLength))
        guard header.chunkSize > 0, Int(header.chunkSize) + SecretStream.chunkOverhead <= maximumChunkSize, header.snapshotBytes >= 0 else {
            throw VaultError.integrity("\(file.name): the backup header names an impossible chunk size \(header.chunkSize) or size \(header.snapshotBytes)")
        }
        return (header, headerBytes)
    }

    private static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }
}

/// Reads fixed fields from a byte array already checked to be long enough.
private struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    package mutating func take(_ count: Int) -> [UInt8] {
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    package mutating func uint32() -> UInt32 { take(4).reduce(0) { $0 << 8 | UInt32($1) } }
    package mutating func int64() -> Int64 { Int64(bitPattern: take(8).reduce(0) { $0 << 8 | UInt64($1) }) }
}

/// A backup file read from the start, in bounded pieces.
package final class BackupInput {
    package let name: String
    private let handle: FileHandle
    package private(set) var offset: Int64 = 0

    package init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw VaultError.notFound("backup file \(path) does not exist")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw VaultError.io("cannot read backup file \(path)") }
        self.handle = handle
        self.name = (path as NSString).lastPathComponent
    }

    deinit { try? handle.close() }

    /// Up to `count` bytes; fewer only at the end of the file.
    package func read(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let got = try out.withUnsafeMutableBytes { try read(into: $0) }
        out.removeLast(count - got)
        return out
    }

    /// Fills `buffer` from the file; returns fewer bytes than it holds only at the end of the file.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let got = try FileIO.readFully(handle.fileDescriptor, into: buffer, name: name)
        offset += Int64(got)
        return got
    }
}
