import CSodium

// MARK: - SecretBytes

/// Secret bytes (a key, a passphrase, a decrypted secret) kept in memory that is wiped on release.
///
/// The bytes are reachable only inside ``withUnsafeBytes(_:)``; they never appear in
/// `description`, `debugDescription`, `dump` or test failure messages. The buffer is an ordinary
/// allocation, locked into RAM with `sodium_mlock` when the system allows it (best effort, see
/// below), and wiped with `sodium_memzero` over its whole capacity in `deinit`.
///
/// Equality is constant-time in the content: two instances with the same bytes are equal.
///
/// ```swift
/// let key = try SecretBytes(randomCount: XChaCha20Poly1305.keyLength)
/// let box = try XChaCha20Poly1305.seal(plaintext, key: key, associatedData: recordID)
/// ```
///
/// Why not `sodium_malloc`: it spends at least three pages and several `mprotect` mappings per
/// allocation, and the vault may hold thousands of small field keys (the kernel caps the number
/// of mappings a process may have). Locking is best effort for the same reason: `mlock` limits are
/// small, and `munlock` on release may unlock a page shared with another live buffer. The wipe is
/// the guarantee; the lock only keeps pages out of swap and core dumps where it can.
public final class SecretBytes: @unchecked Sendable {
    // @unchecked Sendable: the buffer is written only during init and is immutable afterwards,
    // so sharing it across threads is safe.

    /// Always valid: at least one byte is allocated even for an empty secret.
    private let storage: UnsafeMutableRawPointer
    /// Bytes allocated, locked and wiped (at least 1).
    private let capacity: Int

    /// The number of secret bytes.
    public let count: Int

    // MARK: Creating

    /// Creates a buffer of `count` bytes and lets `initializer` fill it in place.
    ///
    /// Lets a KDF or a decryption write its output straight into wiped memory, so the secret never
    /// passes through an ordinary array. The buffer starts zeroed. If `initializer` throws, the
    /// buffer is wiped and freed before the error propagates. A negative `count` is treated as 0.
    /// - Throws: Whatever `initializer` throws.
    public init(count: Int, initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        _ = Sodium.isReady
        let count = max(0, count)
        let capacity = max(1, count)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
        // Best effort: the result is ignored on purpose (RLIMIT_MEMLOCK is often small).
        _ = sodium_mlock(storage, capacity)
        var succeeded = false
        defer {
            if !succeeded { Self.release(storage, capacity: capacity) }
        }
        try initializer(UnsafeMutableRawBufferPointer(start: storage, count: count))
        succeeded = true
        self.storage = storage
        self.capacity = capacity
        self.count = count
    }

    /// Creates a buffer of `randomCount` bytes from libsodium's CSPRNG (`randombytes_buf`).
    /// - Throws: ``CryptoError/Code/invalidParameters`` for a negative count;
    ///   ``CryptoError/Code/libraryFailure`` if libsodium cannot be initialised.
    public convenience init(randomCount: Int) throws {
        try Sodium.initialize()
        guard randomCount >= 0 else {
            throw CryptoError.invalidParameters("random byte count must not be negative")
        }
        self.init(count: randomCount, filling: { pointer, count in
            randombytes_buf(pointer, count)
        })
    }

    /// Copies `bytes` into a new wiped-on-release buffer.
    ///
    /// The caller's own copy is not touched: wipe it (``wipe(_:)``) once it is no longer needed.
    /// A sequence without contiguous storage goes through a temporary array that is wiped here.
    public convenience init(copying bytes: some Sequence<UInt8>) {
        let contiguousCount = bytes.withContiguousStorageIfAvailable { $0.count }
        var temporary: [UInt8] = contiguousCount == nil ? Array(bytes) : []
        defer { wipe(&temporary) }
        self.init(count: contiguousCount ?? temporary.count) { destination in
            let copy = { (source: UnsafeRawBufferPointer) in
                guard let from = source.baseAddress, let to = destination.baseAddress else { return }
                to.copyMemory(from: from, byteCount: min(source.count, destination.count))
            }
            if contiguousCount != nil {
                _ = bytes.withContiguousStorageIfAvailable { copy(UnsafeRawBufferPointer($0)) }
            } else {
                temporary.withUnsafeBytes(copy)
            }
        }
    }

    deinit {
        Self.release(storage, capacity: capacity)
    }

    /// Wipes the whole capacity, unlocks it and frees it.
    private static func release(_ storage: UnsafeMutableRawPointer, capacity: Int) {
        sodium_memzero(storage, capacity)
        // sodium_munlock also zeroes; its failure only means the pages were not locked.
        _ = sodium_munlock(storage, capacity)
        storage.deallocate()
    }

    // MARK: Reading

    /// Calls `body` with a read-only view of the secret bytes.
    ///
    /// Do not let the pointer escape `body`, and do not copy the bytes into ordinary arrays that
    /// outlive it without wiping them.
    /// - Throws: Whatever `body` throws.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }

    /// Calls `body` with a never-nil typed pointer to the bytes, for passing to libsodium.
    func withBytePointer<R>(_ body: (UnsafePointer<UInt8>, Int) throws -> R) rethrows -> R {
        try body(UnsafePointer(storage.assumingMemoryBound(to: UInt8.self)), count)
    }

    /// Creates a buffer of `count` bytes filled in place through a never-nil typed pointer.
    convenience init(count: Int, filling body: (UnsafeMutablePointer<UInt8>, Int) throws -> Void) rethrows {
        try self.init(count: count) { (buffer: UnsafeMutableRawBufferPointer) in
            // The designated init always passes its (non-nil) storage.
            guard let base = buffer.baseAddress else { return }
            try body(base.assumingMemoryBound(to: UInt8.self), buffer.count)
        }
    }
}

// MARK: - Equatable

extension SecretBytes: Equatable {
    /// Compares the contents in constant time (`sodium_memcmp`); lengths are not secret and are
    /// compared first.
    public static func == (lhs: SecretBytes, rhs: SecretBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return sodium_memcmp(lhs.storage, rhs.storage, lhs.count) == 0
    }
}

// MARK: - Redacted descriptions

extension SecretBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `"SecretBytes(<count> bytes, redacted)"`: never the bytes.
    public var description: String {
        "SecretBytes(\(count) bytes, redacted)"
    }

    /// Same as ``description``: never the bytes.
    public var debugDescription: String {
        description
    }

    /// A mirror without children, so `dump` and debuggers' reflection show no storage.
    public var customMirror: Mirror {
        Mirror(self, children: [], displayStyle: .class)
    }
}

// MARK: - Byte array helpers

/// Compares two byte arrays in constant time for equal lengths (`sodium_memcmp`).
///
/// Use it for MACs, tags and other values an attacker may probe byte by byte.
/// - Returns: `false` when the lengths differ (the lengths are not treated as secret).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    _ = Sodium.isReady
    guard a.count == b.count else { return false }
    return withBytes(of: a) { pa, count in
        withBytes(of: b) { pb, _ in sodium_memcmp(pa, pb, count) == 0 }
    }
}

/// Overwrites an array's storage with zeros (`sodium_memzero`), keeping its count.
///
/// The spare capacity past `count` is wiped too, since `removeLast` and friends leave old bytes
/// there. If the array's storage is shared with another array (copy-on-write), only this array's
/// new private copy can be wiped: wipe arrays that hold secrets before copying them around.
public func wipe(_ bytes: inout [UInt8]) {
    _ = Sodium.isReady
    let count = bytes.count
    let spare = bytes.capacity - count
    // Appending within capacity does not reallocate, so this overwrites the stale tail in place.
    if spare > 0 {
        bytes.append(contentsOf: repeatElement(0, count: spare))
    }
    bytes.withUnsafeMutableBytes { buffer in
        sodium_memzero(buffer.baseAddress, buffer.count)
    }
    if spare > 0 {
        bytes.removeLast(spare)
    }
}
