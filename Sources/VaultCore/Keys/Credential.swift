public import VaultCrypto
import Foundation

/// What a principal unlocks with. Both forms hold their bytes in wiping ``SecretBytes``.
public enum Credential: Sendable {
    /// A passphrase, stretched with Argon2id.
    case passphrase(SecretBytes)
    /// 32 random bytes from a key file, for automation.
    case keyFile(SecretBytes)

    /// Longest passphrase accepted; longer input is more likely a wrong file than a passphrase.
    public static let maximumPassphraseBytes = 1_024
    public static let keyFileLength = 32

    /// A passphrase from text, refusing empty ones.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` when the passphrase is empty or too long.
    public static func passphrase(_ text: String) throws -> Credential {
        var bytes = Array(text.utf8)
        defer { wipe(&bytes) }
        return try passphrase(bytes: bytes, source: "passphrase")
    }

    /// A passphrase from raw bytes (e.g. a passphrase file), dropping one trailing newline.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` naming `source` when the bytes are not a usable passphrase.
    public static func passphrase(bytes: [UInt8], source: String) throws -> Credential {
        var end = bytes.count
        if end > 0 && bytes[end - 1] == 0x0A { end -= 1 }
        if end > 0 && bytes[end - 1] == 0x0D { end -= 1 }
        guard end > 0 else { throw VaultError.invalidInput("\(source) is empty") }
        guard end <= maximumPassphraseBytes else {
            throw VaultError.invalidInput("\(source) is longer than \(maximumPassphraseBytes) bytes")
        }
        guard String(validating: bytes[..<end], as: UTF8.self) != nil else {
            throw VaultError.invalidInput("\(source) is not UTF-8 text")
        }
        guard !bytes[..<end].contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) else {
            throw VaultError.invalidInput("\(source) must hold one line (it contains line breaks or NUL bytes)")
        }
        return .passphrase(SecretBytes(copying: bytes[..<end]))
    }

    /// Reads a passphrase file: its first line, UTF-8, at most ``maximumPassphraseBytes``.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` when the file is missing or malformed.
    public static func passphrase(fileAt path: String) throws -> Credential {
        var bytes = try readSecretFile(path, what: "passphrase file", limit: maximumPassphraseBytes + 2)
        defer { wipe(&bytes) }
        return try passphrase(bytes: bytes, source: "passphrase file \(path)")
    }

    /// Reads a key file: exactly 32 raw bytes, or 64 hexadecimal digits and an optional newline.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` when the file is missing or malformed.
    public static func keyFile(at path: String) throws -> Credential {
        var bytes = try readSecretFile(path, what: "key file", limit: 4_096)
        defer { wipe(&bytes) }
        if bytes.count == keyFileLength { return .keyFile(SecretBytes(copying: bytes)) }
        var text = bytes
        defer { wipe(&text) }
        while let last = text.last, last == 0x0A || last == 0x0D { text.removeLast() }
        guard text.count == 2 * keyFileLength, let decoded = Hex.decode(text) else {
            throw VaultError.invalidInput("key file \(path) must hold exactly 32 bytes (raw, or as 64 hex digits)")
        }
        var key = decoded
        defer { wipe(&key) }
        return .keyFile(SecretBytes(copying: key))
    }

    /// Reads a small secret file without leaving extra copies around.
    package static func readSecretFile(_ path: String, what: String, limit: Int) throws -> [UInt8] {
        // A wrong path is bad input, like any other wrong option value.
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw VaultError.invalidInput("\(what) \(path) does not exist") }
        guard !isDirectory.boolValue else { throw VaultError.invalidInput("\(what) \(path) is a directory, not a file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw VaultError.io("cannot read \(what) \(path)") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        guard data.count <= limit else { throw VaultError.invalidInput("\(what) \(path) is larger than \(limit) bytes") }
        return [UInt8](data)
    }

    /// Why a passphrase is too weak to protect a keyring (``PassphraseStrength``); nil for a
    /// strong one and for a key file.
    public var passphraseWeakness: String? {
        guard case .passphrase(let secret) = self else { return nil }
        var scalars: [Unicode.Scalar] = secret.withUnsafeBytes { bytes in
            var decoded: [Unicode.Scalar] = []
            var iterator = bytes.makeIterator()
            var decoder = UTF8()
            while case .scalarValue(let scalar) = decoder.decode(&iterator) { decoded.append(scalar) }
            return decoded
        }
        defer { for index in scalars.indices { scalars[index] = " " } }
        return PassphraseStrength.weakness(of: scalars)
    }

    package var kind: CredentialKind {
        switch self {
        case .passphrase: .passphrase
        case .keyFile: .keyFile
        }
    }
}

package enum CredentialKind: String, Sendable {
    case passphrase
    case keyFile = "key_file"
}

/// Lower-case hexadecimal, used for ids and key files.
package enum Hex {
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var iterator = text.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = nibble(high), let l = nibble(low) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }
}
