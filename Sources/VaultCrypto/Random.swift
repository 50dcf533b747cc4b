import CSodium
import Synchronization

/// Cryptographically secure random values from libsodium (`randombytes_*`).
///
/// Use it for nonces, salts and identifiers; use ``SecretBytes/init(randomCount:)`` for keys, so
/// they start life in wiped memory.
public enum SecureRandom {
    /// Returns `count` random bytes (`randombytes_buf`); an empty array when `count` ≤ 0.
    ///
    /// libsodium aborts the process rather than return weak randomness, so this cannot fail.
    public static func bytes(_ count: Int) -> [UInt8] {
        _ = Sodium.isReady
        guard count > 0 else { return [] }
        var result = [UInt8](repeating: 0, count: count)
        withMutableBytes(of: &result) { pointer, count in
            randombytes_buf(pointer, count)
        }
        return result
    }

    /// Returns a uniformly distributed value in `0..<upperBound` (`randombytes_uniform`, no modulo bias).
    ///
    /// Returns 0 when `upperBound` is 0 or 1 (the range `0..<0` is empty; libsodium returns 0).
    public static func uniform(_ upperBound: UInt32) -> UInt32 {
        _ = Sodium.isReady
        return randombytes_uniform(upperBound)
    }
}

extension SecureRandom {
    /// `count` random bytes for a public value used once, such as a nonce.
    ///
    /// Served from a 4 KiB buffer filled by `randombytes_buf`: one `getrandom` system call per
    /// 170 XChaCha20 nonces instead of one each (the call was 5% of an import's CPU). Every byte is
    /// handed out once. The buffer is not wiped, so never use this for keys or other secrets, and a
    /// process that forks must not seal in the child (the library and cvault never fork).
    public static func nonce(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        guard count <= NonceBuffer.capacity / 16 else { return bytes(count) }
        return nonceBuffer.withLock { $0.take(count) }
    }

    /// Fills `destination` as ``nonce(_:)`` would return it, without an array of its own.
    public static func fillNonce(_ destination: UnsafeMutableRawBufferPointer) {
        guard destination.count <= NonceBuffer.capacity / 16 else {
            _ = Sodium.isReady
            if let base = destination.baseAddress { randombytes_buf(base, destination.count) }
            return
        }
        nonceBuffer.withLock { $0.take(into: destination) }
    }
}

/// Random bytes drawn ahead for ``SecureRandom/nonce(_:)``.
struct NonceBuffer: ~Copyable {
    static let capacity = 4_096
    private var bytes = [UInt8](repeating: 0, count: capacity)
    /// Index of the first byte not yet handed out; `capacity` when all are used.
    private(set) var next = capacity

    mutating func take(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            take(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    mutating func take(into destination: UnsafeMutableRawBufferPointer) {
        let count = destination.count
        if next + count > Self.capacity {
            _ = Sodium.isReady
            withMutableBytes(of: &bytes) { pointer, length in randombytes_buf(pointer, length) }
            next = 0
        }
        bytes.withUnsafeBytes { destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[next..<next + count])) }
        next += count
    }
}

private let nonceBuffer = Mutex(NonceBuffer())
