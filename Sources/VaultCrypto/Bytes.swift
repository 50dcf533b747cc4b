import CSodium

// Internal helpers that hand byte buffers to libsodium. Not a primitive; shared by all of them.

/// Calls `body` with a pointer to the bytes of `bytes` and their count.
///
/// The pointer is never nil, even for an empty collection, because not every libsodium function
/// promises to accept NULL with a zero length. A collection without contiguous storage is copied
/// into a temporary array, which is wiped afterwards because the bytes may be plaintext.
func withBytes<R>(
    of bytes: some Collection<UInt8>,
    _ body: (UnsafePointer<UInt8>, Int) throws -> R
) rethrows -> R {
    if let result = try bytes.withContiguousStorageIfAvailable({ try withNonNilBase($0, body) }) {
        return result
    }
    var copy = Array(bytes)
    defer { wipe(&copy) }
    return try copy.withUnsafeBufferPointer { try withNonNilBase($0, body) }
}

/// Calls `body` with a never-nil mutable pointer to the storage of `array` and its count.
func withMutableBytes<R>(
    of array: inout [UInt8],
    _ body: (UnsafeMutablePointer<UInt8>, Int) throws -> R
) rethrows -> R {
    try array.withUnsafeMutableBufferPointer { buffer in
        if let base = buffer.baseAddress {
            return try body(base, buffer.count)
        }
        var placeholder: UInt8 = 0
        return try withUnsafeMutablePointer(to: &placeholder) { try body($0, 0) }
    }
}

private func withNonNilBase<R>(
    _ buffer: UnsafeBufferPointer<UInt8>,
    _ body: (UnsafePointer<UInt8>, Int) throws -> R
) rethrows -> R {
    if let base = buffer.baseAddress {
        return try body(base, buffer.count)
    }
    // Empty buffers may have no address; a valid pointer with count 0 is never read.
    var placeholder: UInt8 = 0
    return try withUnsafePointer(to: &placeholder) { try body($0, 0) }
}

/// Checks a length against the one a primitive accepts.
func requireLength(_ actual: Int, _ expected: Int, _ what: String) throws {
    guard actual == expected else {
        throw CryptoError.invalidLength(expected: expected, actual: actual, what: what)
    }
}

/// Checks a length against the range a primitive accepts.
func requireLength(_ actual: Int, in expected: ClosedRange<Int>, _ what: String) throws {
    guard expected.contains(actual) else {
        throw CryptoError.invalidLength(expected: expected, actual: actual, what: what)
    }
}

/// Turns a libsodium status code (0 = success) into a thrown ``CryptoError``.
func check(_ status: Int32, _ function: String) throws {
    guard status == 0 else {
        throw CryptoError.libraryFailure(function: function)
    }
}
