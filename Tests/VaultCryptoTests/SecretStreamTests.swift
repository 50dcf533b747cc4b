import Testing
import VaultCrypto

/// An encrypted stream as a caller stores it: header plus separately framed chunks.
struct EncryptedStream {
    var header: [UInt8]
    var chunks: [[UInt8]]
}

/// The reading loop every caller writes: pull each chunk, then `finish()` at end of input.
func readAll(_ stream: EncryptedStream, key: SecretBytes) throws -> [UInt8] {
    let puller = try SecretStream.Puller(key: key, header: stream.header)
    var plaintext: [UInt8] = []
    for chunk in stream.chunks {
        plaintext += try puller.pull(chunk).bytes
    }
    try puller.finish()
    return plaintext
}

func writeAll(_ parts: [[UInt8]], key: SecretBytes) throws -> EncryptedStream {
    let pusher = try SecretStream.Pusher(key: key)
    var chunks: [[UInt8]] = []
    for (index, part) in parts.enumerated() {
        chunks.append(try pusher.push(part, isFinal: index == parts.count - 1))
    }
    return EncryptedStream(header: pusher.header, chunks: chunks)
}

@Suite("Secret stream")
struct SecretStreamTests {
    let key: SecretBytes
    let parts: [[UInt8]]

    init() throws {
        key = try SecretBytes(randomCount: SecretStream.keyLength)
        parts = [SecureRandom.bytes(100), SecureRandom.bytes(1), [], SecureRandom.bytes(4_096), SecureRandom.bytes(7)]
    }

    @Test("round trip, with chunk sizes and final flags as pushed")
    func roundTrip() throws {
        let stream = try writeAll(parts, key: key)
        #expect(stream.header.count == SecretStream.headerLength)
        #expect(stream.chunks.map(\.count) == parts.map { $0.count + SecretStream.chunkOverhead })

        let puller = try SecretStream.Puller(key: key, header: stream.header)
        for (index, chunk) in stream.chunks.enumerated() {
            #expect(!puller.isFinished)
            let (bytes, isFinal) = try puller.pull(chunk)
            #expect(bytes == parts[index])
            #expect(isFinal == (index == parts.count - 1))
        }
        #expect(puller.isFinished)
        try puller.finish()

        // A single empty final chunk is a valid, empty stream.
        #expect(try readAll(try writeAll([[]], key: key), key: key) == [])
    }

    @Test("the reusable-buffer push and pull agree with the array ones, byte for byte, in both directions")
    func reusableBuffers() throws {
        // Pushed into one reused buffer, pulled with the array API.
        let pusher = try SecretStream.Pusher(key: key)
        var frame = [UInt8](repeating: 0xAA, count: 4_096 + SecretStream.chunkOverhead + 5)
        var chunks: [[UInt8]] = []
        for (index, part) in parts.enumerated() {
            let written = try part.withUnsafeBufferPointer { piece in
                try frame.withUnsafeMutableBufferPointer { try pusher.push(piece, into: $0, isFinal: index == parts.count - 1) }
            }
            #expect(written == part.count + SecretStream.chunkOverhead)
            chunks.append(Array(frame[..<written]))
        }
        let stream = EncryptedStream(header: pusher.header, chunks: chunks)
        #expect(try readAll(stream, key: key) == parts.flatMap { $0 })

        // Pushed with the array API, pulled into one reused buffer.
        let other = try writeAll(parts, key: key)
        let puller = try SecretStream.Puller(key: key, header: other.header)
        var plain = [UInt8](repeating: 0, count: 4_096)
        for (index, chunk) in other.chunks.enumerated() {
            let (count, isFinal) = try chunk.withUnsafeBufferPointer { sealed in
                try plain.withUnsafeMutableBufferPointer { try puller.pull(sealed, into: $0) }
            }
            #expect(Array(plain[..<count]) == parts[index])
            #expect(isFinal == (index == parts.count - 1))
        }
        try puller.finish()
    }

    @Test("a reusable buffer that is too short is refused; a modified chunk leaves no plaintext in the buffer")
    func reusableBufferFailures() throws {
        let pusher = try SecretStream.Pusher(key: key)
        var short = [UInt8](repeating: 0, count: 100 + SecretStream.chunkOverhead - 1)
        #expect(throws: CryptoError.invalidParameters("")) {
            _ = try parts[0].withUnsafeBufferPointer { piece in try short.withUnsafeMutableBufferPointer { try pusher.push(piece, into: $0) } }
        }
        let stream = try writeAll([parts[0], parts[3]], key: key)
        let puller = try SecretStream.Puller(key: key, header: stream.header)
        var plain = [UInt8](repeating: 0, count: 4_096)
        _ = try stream.chunks[0].withUnsafeBufferPointer { sealed in try plain.withUnsafeMutableBufferPointer { try puller.pull(sealed, into: $0) } }
        #expect(Array(plain[..<100]) == parts[0])
        var tampered = stream.chunks[1]
        tampered[tampered.count / 2] ^= 0x01
        #expect(throws: CryptoError.authenticationFailed()) {
            _ = try tampered.withUnsafeBufferPointer { sealed in try plain.withUnsafeMutableBufferPointer { try puller.pull(sealed, into: $0) } }
        }
        #expect(plain.allSatisfy { $0 == 0 }, "the failed pull left bytes in the buffer")
    }

    @Test("the pusher refuses chunks after the final one")
    func pushAfterFinal() throws {
        let pusher = try SecretStream.Pusher(key: key)
        _ = try pusher.push([1], isFinal: true)
        #expect(throws: CryptoError.invalidParameters("")) { _ = try pusher.push([2]) }
    }

    @Test("a stream without its final chunk is caught by finish()")
    func truncatedStream() throws {
        let stream = try writeAll(parts, key: key)
        let puller = try SecretStream.Puller(key: key, header: stream.header)
        for chunk in stream.chunks.dropLast() {
            #expect(try puller.pull(chunk).isFinal == false)
        }
        #expect(!puller.isFinished)
        #expect(throws: CryptoError.authenticationFailed()) { try puller.finish() }
    }

    @Test("a named set of broken streams: every one is rejected as authenticationFailed")
    func brokenStreams() throws {
        let stream = try writeAll(parts, key: key)
        let other = try writeAll(parts, key: key)
        let otherKeyStream = try writeAll(parts, key: try SecretBytes(randomCount: 32))
        var cases: [(name: String, stream: EncryptedStream)] = []

        for cut in 0..<stream.chunks.count {
            cases.append(("cut after \(cut) of \(stream.chunks.count) chunks", EncryptedStream(header: stream.header, chunks: Array(stream.chunks.prefix(cut)))))
        }
        cases.append(("trailing garbage after the final chunk", EncryptedStream(header: stream.header, chunks: stream.chunks + [SecureRandom.bytes(40)])))
        cases.append(("two final chunks", EncryptedStream(header: stream.header, chunks: stream.chunks + [stream.chunks[stream.chunks.count - 1]])))
        var reordered = stream.chunks
        reordered.swapAt(0, 1)
        cases.append(("first two chunks swapped", EncryptedStream(header: stream.header, chunks: reordered)))
        var duplicated = stream.chunks
        duplicated.insert(stream.chunks[1], at: 1)
        cases.append(("chunk duplicated", EncryptedStream(header: stream.header, chunks: duplicated)))
        var dropped = stream.chunks
        dropped.remove(at: 2)
        cases.append(("middle chunk dropped", EncryptedStream(header: stream.header, chunks: dropped)))
        var spliced = stream.chunks
        spliced[1] = other.chunks[1]
        cases.append(("chunk spliced from another stream with the same key", EncryptedStream(header: stream.header, chunks: spliced)))
        cases.append(("header from another stream", EncryptedStream(header: other.header, chunks: stream.chunks)))
        cases.append(("header cut", EncryptedStream(header: Array(stream.header.dropLast()), chunks: stream.chunks)))
        cases.append(("header missing", EncryptedStream(header: [], chunks: stream.chunks)))
        cases.append(("stream under another key", otherKeyStream))
        var shortChunk = stream.chunks
        shortChunk[0] = Array(shortChunk[0].prefix(SecretStream.chunkOverhead - 1))
        cases.append(("chunk shorter than its overhead", EncryptedStream(header: stream.header, chunks: shortChunk)))
        var cutChunk = stream.chunks
        cutChunk[3].removeLast()
        cases.append(("last byte of a chunk cut", EncryptedStream(header: stream.header, chunks: cutChunk)))
        for (offset, _, flipped) in everyBitFlip(of: stream.header) where offset % 4 == 0 {
            cases.append(("header bit flipped at byte \(offset)", EncryptedStream(header: flipped, chunks: stream.chunks)))
        }

        var undetected: [String] = []
        for testCase in cases where errorCode({ _ = try readAll(testCase.stream, key: key) }) != .authenticationFailed {
            undetected.append(testCase.name)
        }
        #expect(undetected.isEmpty, "\(cases.count - undetected.count) of \(cases.count) broken streams detected; missed: \(undetected)")
        // The unbroken original still reads, so the failures above are due to the damage.
        #expect(try readAll(stream, key: key) == parts.flatMap { $0 })
    }

    @Test("every bit flip in a chunk is detected, and the puller stays failed")
    func tamperedChunk() throws {
        let stream = try writeAll(parts, key: key)
        let flips = everyBitFlip(of: stream.chunks[1]) + everyBitFlip(of: stream.chunks[4])
        var detected = 0
        for flip in flips {
            var chunks = stream.chunks
            let target = flip.bytes.count == stream.chunks[1].count ? 1 : 4
            chunks[target] = flip.bytes
            if errorCode({ _ = try readAll(EncryptedStream(header: stream.header, chunks: chunks), key: key) }) == .authenticationFailed {
                detected += 1
            }
        }
        #expect(detected == flips.count, "\(detected) of \(flips.count) chunk bit flips detected")

        // After a failed chunk, even the genuine chunk is refused: the stream is corrupt.
        let puller = try SecretStream.Puller(key: key, header: stream.header)
        var bad = stream.chunks[0]
        bad[0] ^= 1
        #expect(throws: CryptoError.authenticationFailed()) { _ = try puller.pull(bad) }
        #expect(throws: CryptoError.authenticationFailed()) { _ = try puller.pull(stream.chunks[0]) }
        #expect(!puller.isFinished)
    }

    @Test("wrong key lengths are invalidLength")
    func keyLength() {
        let badKey = SecretBytes(copying: [UInt8](repeating: 1, count: 16))
        #expect(errorCode { _ = try SecretStream.Pusher(key: badKey) } == .invalidLength)
        #expect(errorCode { _ = try SecretStream.Puller(key: badKey, header: [UInt8](repeating: 0, count: 24)) } == .invalidLength)
    }
}
