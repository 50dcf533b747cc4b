import CSodium

/// Encrypts a sequence of chunks as one authenticated stream
/// (`crypto_secretstream_xchacha20poly1305`), for backups and other large data.
///
/// A ``Pusher`` produces a header and one encrypted chunk per ``Pusher/push(_:isFinal:)``; the
/// last chunk carries the final tag. A ``Puller`` opens them in order. Chunks cannot be modified,
/// reordered, duplicated or dropped without ``Puller/pull(_:)`` failing, and a stream cut after a
/// whole chunk is caught by ``Puller/finish()``: call it when the input ends.
///
/// Framing (how chunk boundaries are stored) is the caller's job; each encrypted chunk is
/// ``chunkOverhead`` bytes longer than its plaintext.
///
/// ```swift
/// let pusher = try SecretStream.Pusher(key: key)
/// var file = pusher.header
/// file += try pusher.push(part1)
/// file += try pusher.push(part2, isFinal: true)
///
/// let puller = try SecretStream.Puller(key: key, header: header)
/// for chunk in chunks { let (bytes, _) = try puller.pull(chunk); write(bytes) }
/// try puller.finish()   // throws if the final chunk never came
/// ```
public enum SecretStream {
    /// Key length in bytes (`crypto_secretstream_xchacha20poly1305_KEYBYTES`).
    public static let keyLength = 32
    /// Header length in bytes (`crypto_secretstream_xchacha20poly1305_HEADERBYTES`).
    public static let headerLength = 24
    /// Bytes added to each chunk (`crypto_secretstream_xchacha20poly1305_ABYTES`).
    public static let chunkOverhead = 17

    /// The encrypting side of a stream. Not `Sendable`: one task pushes chunks in order.
    public final class Pusher {
        /// The stream header; store it before the first chunk (it is not secret).
        public let header: [UInt8]
        private let state: StreamState
        private var isFinished = false

        /// Starts a new stream under `key`, with a fresh random header.
        /// - Throws: ``CryptoError/Code/invalidLength`` for a key that is not 32 bytes;
        ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
        public init(key: SecretBytes) throws {
            try Sodium.initialize()
            try requireLength(key.count, keyLength, "secretstream key")
            let state = StreamState()
            var header = [UInt8](repeating: 0, count: headerLength)
            let status = withMutableBytes(of: &header) { headerPointer, _ in
                key.withBytePointer { keyPointer, _ in
                    crypto_secretstream_xchacha20poly1305_init_push(state.pointer, headerPointer, keyPointer)
                }
            }
            try check(status, "crypto_secretstream_xchacha20poly1305_init_push")
            self.state = state
            self.header = header
        }

        /// Encrypts the next chunk; mark the last one with `isFinal`.
        /// - Parameters:
        ///   - chunk: The plaintext of this chunk (may be empty).
        ///   - isFinal: `true` for the last chunk of the stream.
        ///   - associatedData: Authenticated with this chunk but not stored (for example a file
        ///     header, bound to the first chunk); the puller must pass the same bytes.
        /// - Returns: `chunk.count + chunkOverhead` bytes.
        /// - Throws: ``CryptoError/Code/invalidParameters`` after the final chunk was pushed;
        ///   ``CryptoError/Code/libraryFailure`` if libsodium fails.
        public func push(_ chunk: some Collection<UInt8>, isFinal: Bool = false, associatedData: [UInt8] = []) throws -> [UInt8] {
            var output = [UInt8](repeating: 0, count: chunk.count + chunkOverhead)
            let written = try withBytes(of: chunk) { message, messageLength in
                try output.withUnsafeMutableBufferPointer { buffer in
                    try push(UnsafeBufferPointer(start: message, count: messageLength), into: buffer, isFinal: isFinal, associatedData: associatedData)
                }
            }
            guard written == output.count else { throw CryptoError.libraryFailure(function: "crypto_secretstream_xchacha20poly1305_push") }
            return output
        }

        /// ``push(_:isFinal:associatedData:)`` into a buffer the caller reuses (no allocation per
        /// chunk, for backups). `output` must hold at least `chunk.count + chunkOverhead` bytes.
        /// - Returns: The bytes written to the start of `output`: `chunk.count + chunkOverhead`.
        /// - Throws: ``CryptoError/Code/invalidParameters`` after the final chunk or for a short
        ///   `output`; ``CryptoError/Code/libraryFailure`` if libsodium fails.
        public func push(_ chunk: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>, isFinal: Bool = false,
                         associatedData: [UInt8] = []) throws -> Int {
            guard !isFinished else {
                throw CryptoError.invalidParameters("secretstream: push after the final chunk")
            }
            let expected = chunk.count + chunkOverhead
            guard output.count >= expected, let outputPointer = output.baseAddress else {
                throw CryptoError.invalidParameters("secretstream: the output buffer holds \(output.count) bytes, \(expected) needed")
            }
            let tag = isFinal
                ? crypto_secretstream_xchacha20poly1305_tag_final()
                : crypto_secretstream_xchacha20poly1305_tag_message()
            var outputLength: UInt64 = 0
            let status = withBytes(of: chunk) { message, messageLength in
                associatedData.withUnsafeBufferPointer { ad in
                    crypto_secretstream_xchacha20poly1305_push(
                        state.pointer, outputPointer, &outputLength,
                        message, UInt64(messageLength), ad.baseAddress, UInt64(ad.count), tag
                    )
                }
            }
            try check(status, "crypto_secretstream_xchacha20poly1305_push")
            guard outputLength == UInt64(expected) else {
                throw CryptoError.libraryFailure(function: "crypto_secretstream_xchacha20poly1305_push")
            }
            if isFinal { isFinished = true }
            return expected
        }
    }

    /// The decrypting side of a stream. Not `Sendable`: one task pulls chunks in order.
    ///
    /// After any failure the puller refuses further chunks: the stream is corrupt.
    public final class Puller {
        private let state: StreamState
        private var sawFinal = false
        private var failed = false

        /// Whether the final chunk has been pulled, that is, the stream is complete.
        public var isFinished: Bool { sawFinal && !failed }

        /// Starts reading a stream from its header.
        /// - Throws: ``CryptoError/Code/authenticationFailed`` for a header of the wrong length
        ///   (a cut file); ``CryptoError/Code/invalidLength`` for a key that is not 32 bytes.
        public init(key: SecretBytes, header: some Collection<UInt8>) throws {
            try Sodium.initialize()
            try requireLength(key.count, keyLength, "secretstream key")
            let state = StreamState()
            let status = try withBytes(of: header) { headerPointer, count in
                guard count == headerLength else { throw CryptoError.authenticationFailed() }
                return key.withBytePointer { keyPointer, _ in
                    crypto_secretstream_xchacha20poly1305_init_pull(state.pointer, headerPointer, keyPointer)
                }
            }
            guard status == 0 else { throw CryptoError.authenticationFailed() }
            self.state = state
        }

        /// Verifies and decrypts the next chunk.
        /// - Returns: The plaintext and whether this was the final chunk.
        /// - Throws: ``CryptoError/Code/authenticationFailed`` when the chunk is modified, out of
        ///   order, from another stream or key, too short, carries an unexpected tag, or follows
        ///   the final chunk (trailing data); also for every call after a failure.
        public func pull(_ chunk: some Collection<UInt8>, associatedData: [UInt8] = []) throws -> (bytes: [UInt8], isFinal: Bool) {
            var output = [UInt8](repeating: 0, count: max(0, chunk.count - chunkOverhead))
            do {
                let (count, isFinal) = try withBytes(of: chunk) { sealed, sealedLength in
                    try output.withUnsafeMutableBufferPointer { buffer in
                        try pull(UnsafeBufferPointer(start: sealed, count: sealedLength), into: buffer, associatedData: associatedData)
                    }
                }
                guard count == output.count else { throw CryptoError.authenticationFailed() }
                return (output, isFinal)
            } catch {
                wipe(&output)
                throw error
            }
        }

        /// ``pull(_:associatedData:)`` into a buffer the caller reuses (no allocation per chunk,
        /// for restores). `output` must hold at least `chunk.count - chunkOverhead` bytes; on a
        /// failure it holds no plaintext.
        /// - Returns: The plaintext length written to the start of `output`, and whether this was
        ///   the final chunk.
        /// - Throws: ``CryptoError/Code/authenticationFailed`` as ``pull(_:associatedData:)``;
        ///   ``CryptoError/Code/invalidParameters`` for a short `output`.
        public func pull(_ chunk: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>,
                         associatedData: [UInt8] = []) throws -> (count: Int, isFinal: Bool) {
            guard !failed, !sawFinal else {
                failed = true
                throw CryptoError.authenticationFailed()
            }
            guard chunk.count >= chunkOverhead else {
                failed = true
                throw CryptoError.authenticationFailed()
            }
            let expected = chunk.count - chunkOverhead
            guard output.count >= expected, let outputPointer = output.baseAddress ?? (expected == 0 ? UnsafeMutablePointer(bitPattern: 1) : nil) else {
                throw CryptoError.invalidParameters("secretstream: the output buffer holds \(output.count) bytes, \(expected) needed")
            }
            var outputLength: UInt64 = 0
            var tag: UInt8 = 0
            let status = withBytes(of: chunk) { sealed, sealedLength in
                associatedData.withUnsafeBufferPointer { ad in
                    crypto_secretstream_xchacha20poly1305_pull(
                        state.pointer, outputPointer, &outputLength, &tag,
                        sealed, UInt64(sealedLength), ad.baseAddress, UInt64(ad.count)
                    )
                }
            }
            // Pushers never write PUSH or REKEY tags here; anything else is not our format.
            let final = crypto_secretstream_xchacha20poly1305_tag_final(), message = crypto_secretstream_xchacha20poly1305_tag_message()
            guard status == 0, outputLength == UInt64(expected), tag == final || tag == message else {
                failed = true
                if expected > 0 { sodium_memzero(outputPointer, expected) }
                throw CryptoError.authenticationFailed()
            }
            if tag == final { sawFinal = true }
            return (expected, tag == final)
        }

        /// Confirms the stream ended properly; call it when the input runs out.
        /// - Throws: ``CryptoError/Code/authenticationFailed`` if the final chunk was never pulled
        ///   (the stream was truncated) or a chunk failed.
        public func finish() throws {
            guard isFinished else { throw CryptoError.authenticationFailed() }
        }
    }
}

/// Owns a `crypto_secretstream_xchacha20poly1305_state`, which holds the stream key, and wipes it.
private final class StreamState {
    let pointer: UnsafeMutablePointer<crypto_secretstream_xchacha20poly1305_state>

    init() {
        pointer = .allocate(capacity: 1)
        UnsafeMutableRawPointer(pointer).initializeMemory(
            as: UInt8.self, repeating: 0, count: MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size
        )
    }

    deinit {
        sodium_memzero(pointer, MemoryLayout<crypto_secretstream_xchacha20poly1305_state>.size)
        pointer.deallocate()
    }
}
