public import Foundation

/// A streaming RFC 4180 CSV reader whose memory does not grow with the size of the file.
///
/// The reader works on bytes in a bounded buffer: at most one record (up to `maximumRecordBytes`)
/// plus one read chunk is held at a time, however large the file or a line in it.
///
/// ```swift
/// let reader = try CSVReader(fileURL: url)
/// while let record = try reader.next() {
///     print(record.recordNumber, record.fields.count)
/// }
/// ```
///
/// Rules:
/// - UTF-8 only; a leading UTF-8 byte order mark is skipped.
/// - Records end with LF, CRLF or a lone CR. Inside quotes, line ends (and lone CRs) are field content.
/// - Quoted fields may contain commas, line ends and doubled quotes (`""` reads as `"`).
/// - Empty lines (no bytes between two line ends) are skipped but still counted in ``CSVRecord/line``.
/// - A final record without a line end is returned.
/// - Physical lines are counted at every LF, at every CRLF, and at a lone CR outside quotes.
///
/// After an error the reader can go on: the next call to ``next()`` skips the rest of the faulty
/// record (up to the next line end outside quotes, reading stray quotes as text) and returns the
/// record after it. After ``CSVError/Kind/unterminatedQuote`` (also reported when the input ends
/// inside quotes while a faulty record is skipped) and ``CSVError/Kind/ioFailure``, reading ends.
/// Errors are found in input order, so the results never depend on how the input is chunked.
///
/// The reader is not `Sendable`: use it from one task at a time.
public final class CSVReader {
    /// The default for `maximumRecordBytes`: 1 MiB per record.
    public static let defaultMaximumRecordBytes = 1 << 20
    /// The default for `maximumFields`.
    public static let defaultMaximumFields = 1024
    static let defaultChunkSize = 1 << 16

    /// The largest record accepted, in bytes, line end excluded.
    public let maximumRecordBytes: Int
    /// The largest number of fields accepted in a record.
    public let maximumFields: Int
    /// How many bytes are read from the source at a time.
    let chunkSize: Int
    /// The buffer never grows beyond this: one record at its limit plus one chunk.
    let maximumBufferCapacity: Int

    // MARK: - Source and buffer

    private enum Source {
        case file(FileHandle)
        case data(Data)
    }

    private let source: Source
    private var dataOffset = 0
    private var sourceExhausted = false

    private var buffer: UnsafeMutablePointer<UInt8>
    /// The current capacity of the byte buffer (for tests).
    private(set) var bufferCapacity: Int
    /// Valid bytes are `buffer[0 ..< end]`.
    private var end = 0
    /// Bytes dropped from the front of the buffer so far.
    private var discardedBytes = 0

    private var scanner: CSVScanner
    private var checkedByteOrderMark = false
    private var finished = false

    // MARK: - Creating a reader

    /// Creates a reader for a file, read in 64 KiB chunks.
    ///
    /// - Parameters:
    ///   - fileURL: The CSV file.
    ///   - maximumRecordBytes: The largest record accepted, in bytes, line end excluded.
    ///   - maximumFields: The largest number of fields accepted in a record.
    /// - Throws: The error of `FileHandle` if the file cannot be opened.
    /// - Precondition: `maximumRecordBytes` and `maximumFields` are positive.
    public convenience init(
        fileURL: URL,
        maximumRecordBytes: Int = defaultMaximumRecordBytes,
        maximumFields: Int = defaultMaximumFields
    ) throws {
        try self.init(
            fileURL: fileURL,
            maximumRecordBytes: maximumRecordBytes,
            maximumFields: maximumFields,
            chunkSize: Self.defaultChunkSize
        )
    }

    /// Creates a reader for bytes in memory.
    ///
    /// - Parameters:
    ///   - data: The CSV bytes.
    ///   - maximumRecordBytes: The largest record accepted, in bytes, line end excluded.
    ///   - maximumFields: The largest number of fields accepted in a record.
    public convenience init(
        data: Data,
        maximumRecordBytes: Int = defaultMaximumRecordBytes,
        maximumFields: Int = defaultMaximumFields
    ) {
        self.init(
            data: data,
            maximumRecordBytes: maximumRecordBytes,
            maximumFields: maximumFields,
            chunkSize: Self.defaultChunkSize
        )
    }

    /// Creates a file reader with a chosen chunk size (for tests of chunk boundaries).
    convenience init(
        fileURL: URL,
        maximumRecordBytes: Int = defaultMaximumRecordBytes,
        maximumFields: Int = defaultMaximumFields,
        chunkSize: Int
    ) throws {
        let handle = try FileHandle(forReadingFrom: fileURL)
        self.init(
            source: .file(handle),
            maximumRecordBytes: maximumRecordBytes,
            maximumFields: maximumFields,
            chunkSize: chunkSize
        )
    }

    /// Creates a reader for bytes in memory with a chosen chunk size (for tests of chunk boundaries).
    convenience init(
        data: Data,
        maximumRecordBytes: Int = defaultMaximumRecordBytes,
        maximumFields: Int = defaultMaximumFields,
        chunkSize: Int
    ) {
        self.init(
            source: .data(data),
            maximumRecordBytes: maximumRecordBytes,
            maximumFields: maximumFields,
            chunkSize: chunkSize
        )
    }

    private init(source: Source, maximumRecordBytes: Int, maximumFields: Int, chunkSize: Int) {
        precondition(maximumRecordBytes > 0, "maximumRecordBytes must be positive")
        precondition(maximumFields > 0, "maximumFields must be positive")
        precondition(chunkSize > 0, "chunkSize must be positive")
        self.source = source
        self.maximumRecordBytes = maximumRecordBytes
        self.maximumFields = maximumFields
        self.chunkSize = chunkSize
        // At least 4 bytes so that a byte order mark can be looked at with any chunk size.
        self.maximumBufferCapacity = max(maximumRecordBytes + chunkSize, 4)
        self.bufferCapacity = min(maximumBufferCapacity, max(2 * chunkSize, 4))
        self.buffer = .allocate(capacity: bufferCapacity)
        self.scanner = CSVScanner(maximumRecordBytes: maximumRecordBytes, maximumFields: maximumFields)
    }

    deinit {
        buffer.deallocate()
        if case .file(let handle) = source {
            try? handle.close()
        }
    }

    // MARK: - Reading

    /// Bytes held by the reader's own storage (for tests): the buffer and the scanner's storage.
    var retainedBytes: Int {
        bufferCapacity + scanner.retainedBytes
    }

    /// The number of input bytes consumed so far (for progress reporting).
    public var bytesRead: Int {
        discardedBytes + scanner.recordStart
    }

    /// Returns the next record, or `nil` at the end of the input.
    ///
    /// Empty lines are skipped. After an error, calling `next()` again skips the rest of the faulty
    /// record and goes on with the following one.
    ///
    /// - Throws: ``CSVError`` for a malformed record or a read failure.
    public func next() throws(CSVError) -> CSVRecord? {
        if finished { return nil }
        if !checkedByteOrderMark {
            try skipByteOrderMark()
        }
        while true {
            switch scanner.scan(buffer, end: end) {
            case .needData:
                let keepFrom = scanner.prepareForMoreData()
                if try fill(keepingFrom: keepFrom) { continue }
                do {
                    if let record = try scanner.finishAtEndOfInput(buffer, end: end) {
                        return record
                    }
                    finished = true
                    return nil
                } catch {
                    finished = error.kind == .unterminatedQuote
                    throw error
                }
            case .record(let contentEnd, let next):
                if let record = try scanner.completeRecord(buffer, contentEnd: contentEnd, next: next) {
                    return record
                }
            case .emptyLine:
                continue
            case .failure(let error):
                throw error
            }
        }
    }

    // MARK: - Input

    /// Skips a UTF-8 byte order mark at the start of the input.
    private func skipByteOrderMark() throws(CSVError) {
        checkedByteOrderMark = true
        while end < 3, try fill(keepingFrom: 0) {}
        if end >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
            scanner.skip(3)
        }
    }

    /// Drops the bytes before `keepFrom` and reads the next chunk; returns `false` at the end of the input.
    private func fill(keepingFrom keepFrom: Int) throws(CSVError) -> Bool {
        if sourceExhausted { return false }
        if keepFrom > 0 {
            let kept = end - keepFrom
            if kept > 0 {
                memmove(buffer, buffer + keepFrom, kept)
            }
            discardedBytes += keepFrom
            scanner.bufferDidDrop(keepFrom)
            end = kept
        }
        if bufferCapacity - end < chunkSize, bufferCapacity < maximumBufferCapacity {
            let newCapacity = min(maximumBufferCapacity, max(2 * bufferCapacity, end + chunkSize))
            let newBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newBuffer.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = newBuffer
            bufferCapacity = newCapacity
        }
        let room = min(chunkSize, bufferCapacity - end)
        // The scanner reports a record too long before it can fill the buffer.
        precondition(room > 0, "CSVReader buffer full")

        let count: Int
        switch source {
        case .data(let data):
            count = min(room, data.count - dataOffset)
            if count > 0 {
                let from = data.index(data.startIndex, offsetBy: dataOffset)
                data.copyBytes(to: buffer + end, from: from ..< from + count)
            }
            dataOffset += count
        case .file(let handle):
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: room)
            } catch {
                finished = true
                throw CSVError(kind: .ioFailure, line: scanner.line, recordNumber: scanner.currentRecordNumber)
            }
            count = chunk?.count ?? 0
            if let chunk, count > 0 {
                chunk.copyBytes(to: buffer + end, count: count)
            }
        }
        if count == 0 {
            sourceExhausted = true
            return false
        }
        end += count
        return true
    }
}
