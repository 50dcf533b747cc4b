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
    package static let defaultChunkSize = 1 << 16

    /// The largest record accepted, in bytes, line end excluded.
    public let maximumRecordBytes: Int
    /// The largest number of fields accepted in a record.
    public let maximumFields: Int
    /// How many bytes are read from the source at a time.
    package let chunkSize: Int
    /// The buffer never grows beyond this: one record at its limit plus one chunk.
    package let maximumBufferCapacity: Int

    // MARK: - Source and buffer

    private enum Source {
        case file(FileHandle)
        case data(Data)
    }

    private let source: Source
    /// How the input's bytes encode text; anything but UTF-8 is transcoded as it is read.
    public let encoding: CSVTextEncoding
    /// The byte that separates fields (`,` unless the file uses `;`, a tab or `|`).
    public let delimiter: UInt8
    private var dataOffset = 0
    private var sourceExhausted = false

    private var buffer: UnsafeMutablePointer<UInt8>
    /// The current capacity of the byte buffer (for tests).
    package private(set) var bufferCapacity: Int
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

    /// Creates a reader for a file in another encoding or with another delimiter.
    ///
    /// A delimiter other than `,` is read by exchanging it with the comma in every byte read and
    /// again in every field returned: both are ASCII, never part of a multi-byte UTF-8 sequence,
    /// so the exchange is exact and quoting works as in a comma-separated file.
    public convenience init(fileURL: URL, encoding: CSVTextEncoding, delimiter: UInt8) throws {
        let handle = try FileHandle(forReadingFrom: fileURL)
        self.init(source: .file(handle), maximumRecordBytes: Self.defaultMaximumRecordBytes, maximumFields: Self.defaultMaximumFields,
                  chunkSize: Self.defaultChunkSize, encoding: encoding, delimiter: delimiter)
    }

    /// Creates a reader for bytes in memory in another encoding or with another delimiter.
    public convenience init(data: Data, encoding: CSVTextEncoding, delimiter: UInt8, chunkSize: Int = 1 << 16) {
        self.init(source: .data(data), maximumRecordBytes: Self.defaultMaximumRecordBytes, maximumFields: Self.defaultMaximumFields,
                  chunkSize: chunkSize, encoding: encoding, delimiter: delimiter)
    }

    /// Creates a file reader with a chosen chunk size (for tests of chunk boundaries).
    package convenience init(
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
    package convenience init(
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

    private init(source: Source, maximumRecordBytes: Int, maximumFields: Int, chunkSize: Int,
                 encoding: CSVTextEncoding = .utf8, delimiter: UInt8 = 0x2C) {
        precondition(maximumRecordBytes > 0, "maximumRecordBytes must be positive")
        precondition([0x2C, 0x3B, 0x09, 0x7C].contains(delimiter), "delimiter must be one of , ; tab |")
        self.encoding = encoding
        self.delimiter = delimiter
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
    package var retainedBytes: Int {
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
                        return restoringDelimiter(record)
                    }
                    finished = true
                    return nil
                } catch {
                    finished = error.kind == .unterminatedQuote
                    throw error
                }
            case .record(let contentEnd, let next):
                if let record = try scanner.completeRecord(buffer, contentEnd: contentEnd, next: next) {
                    return restoringDelimiter(record)
                }
            case .emptyLine:
                continue
            case .failure(let error):
                throw error
            }
        }
    }

    /// Exchanges the delimiter and the comma back in a record's fields (see ``init(fileURL:encoding:delimiter:)``).
    private func restoringDelimiter(_ record: CSVRecord) -> CSVRecord {
        guard delimiter != 0x2C else { return record }
        let comma = Unicode.Scalar(0x2C as UInt8), other = Unicode.Scalar(delimiter)
        let fields = record.fields.map { field -> String in
            guard field.utf8.contains(where: { $0 == 0x2C || $0 == delimiter }) else { return field }
            var scalars = String.UnicodeScalarView()
            for scalar in field.unicodeScalars { scalars.append(scalar == comma ? other : scalar == other ? comma : scalar) }
            return String(scalars)
        }
        return CSVRecord(fields: fields, recordNumber: record.recordNumber, line: record.line)
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
        let space = min(chunkSize, bufferCapacity - end)
        // The scanner reports a record too long before it can fill the buffer.
        precondition(space > 0, "CSVReader buffer full")
        // A byte of a single-byte encoding becomes at most 3 bytes of UTF-8.
        let room = encoding == .utf8 ? space : max(1, space / 3)

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
        var produced = count
        if encoding != .utf8 {
            let raw = Array(UnsafeBufferPointer(start: buffer + end, count: count))
            produced = encoding.transcode(raw, into: buffer + end)
        }
        if delimiter != 0x2C {
            for index in end..<(end + produced) {
                if buffer[index] == 0x2C { buffer[index] = delimiter } else if buffer[index] == delimiter { buffer[index] = 0x2C }
            }
        }
        end += produced
        return true
    }
}

/// Single-byte encodings CRM exports still use, read as UTF-8.
public enum CSVTextEncoding: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    /// ISO 8859-1: each byte is the code point of the same number.
    case latin1
    /// Windows code page 1252: Latin-1 with printable characters (€, curly quotes, Š…) at 0x80–0x9F.
    case windows1252 = "windows-1252"

    /// Code points of bytes 0x80–0x9F in Windows-1252; the five bytes it leaves undefined keep their
    /// C1 control code point, which the importer refuses as a control character.
    private static let windows1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    /// Writes `bytes` as UTF-8 to `output` (room for 3 bytes each) and returns how many it wrote.
    package func transcode(_ bytes: [UInt8], into output: UnsafeMutablePointer<UInt8>) -> Int {
        var count = 0
        for byte in bytes {
            let scalar: UInt32 = self == .windows1252 && (0x80...0x9F).contains(byte) ? Self.windows1252High[Int(byte - 0x80)] : UInt32(byte)
            switch scalar {
            case ..<0x80:
                output[count] = UInt8(scalar)
                count += 1
            case ..<0x800:
                output[count] = UInt8(0xC0 | (scalar >> 6))
                output[count + 1] = UInt8(0x80 | (scalar & 0x3F))
                count += 2
            default:
                output[count] = UInt8(0xE0 | (scalar >> 12))
                output[count + 1] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
                output[count + 2] = UInt8(0x80 | (scalar & 0x3F))
                count += 3
            }
        }
        return count
    }
}
