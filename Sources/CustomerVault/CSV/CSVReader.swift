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
/// record (up to the next line end outside quotes) and returns the record after it.
/// After ``CSVError/Kind/unterminatedQuote`` (and ``CSVError/Kind/ioFailure``) reading ends.
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
    /// Where the current record starts in the buffer.
    private var recordStart = 0
    /// The next byte to look at.
    private var scanIndex = 0
    /// Bytes dropped from the front of the buffer so far.
    private var discardedBytes = 0

    // MARK: - Parser state

    private enum ParseState {
        case fieldStart, unquoted, quoted, quoteInQuoted
    }

    private struct FieldSpan {
        /// Offsets relative to the record start, content only (quotes excluded).
        var start: Int
        var end: Int
        var escaped: Bool
    }

    private enum ScanOutcome {
        case needData
        case record(contentEnd: Int, next: Int)
        case emptyLine(next: Int)
        case failure(CSVError)
    }

    private var state = ParseState.fieldStart
    private var fieldStart = 0
    private var fieldEscaped = false
    private var spans: [FieldSpan] = []
    /// An error was reported in the current record; its remaining bytes are skipped.
    private var recovering = false
    /// The previous record ended with a CR; a directly following LF belongs to it.
    private var skipLineFeed = false
    private var checkedByteOrderMark = false
    private var finished = false
    private var line = 1
    private var recordLine = 1
    private var recordsCompleted = 0
    private var unescaped: [UInt8] = []

    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D
    private static let quote: UInt8 = 0x22
    private static let comma: UInt8 = 0x2C

    // MARK: - Creating a reader

    /// Creates a reader for a file, read in 64 KiB chunks.
    ///
    /// - Parameters:
    ///   - fileURL: The CSV file.
    ///   - maximumRecordBytes: The largest record accepted, in bytes, line end excluded.
    ///   - maximumFields: The largest number of fields accepted in a record.
    /// - Throws: The error of `FileHandle` if the file cannot be opened.
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
    }

    deinit {
        buffer.deallocate()
        if case .file(let handle) = source {
            try? handle.close()
        }
    }

    // MARK: - Reading

    /// The number of input bytes consumed so far (for progress reporting).
    public var bytesRead: Int {
        discardedBytes + recordStart
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
            switch scan() {
            case .needData:
                if recovering {
                    recordStart = scanIndex  // the faulty record's bytes are not kept
                } else if scanIndex - recordStart > maximumRecordBytes {
                    let error = makeError(.recordTooLong, line: recordLine)
                    recovering = true
                    recordStart = scanIndex
                    throw error
                }
                if try fill() { continue }
                return try finishAtEndOfInput()
            case .record(let contentEnd, let next):
                if let record = try completeRecord(contentEnd: contentEnd, next: next) {
                    return record
                }
            case .emptyLine(let next):
                recordStart = next
                scanIndex = next
                recordLine = line
            case .failure(let error):
                throw error
            }
        }
    }

    // MARK: - Scanning

    /// Scans buffered bytes until the current record ends, an error is found, or more bytes are needed.
    private func scan() -> ScanOutcome {
        let base = buffer
        let end = self.end
        var i = scanIndex
        if skipLineFeed {
            guard i < end else { return .needData }
            skipLineFeed = false
            if base[i] == Self.lf {
                i += 1
                recordStart = i
            }
        }
        let start = recordStart
        var state = self.state
        var line = self.line
        defer {
            self.state = state
            self.line = line
            self.scanIndex = i
        }

        while i < end {
            switch state {
            case .fieldStart:
                let byte = base[i]
                if byte == Self.quote {
                    state = .quoted
                    fieldStart = i + 1 - start
                    fieldEscaped = false
                    i += 1
                } else if byte == Self.comma {
                    if !recovering {
                        if let error = appendFieldBeforeComma(start: i - start, end: i - start, escaped: false, line: line) {
                            i += 1
                            return .failure(error)
                        }
                    }
                    i += 1
                } else if byte == Self.lf || byte == Self.cr {
                    if !recovering {
                        if i == start {
                            line += 1
                            skipLineFeed = byte == Self.cr
                            i += 1
                            return .emptyLine(next: i)
                        }
                        spans.append(FieldSpan(start: i - start, end: i - start, escaped: false))
                    }
                    return endRecord(at: &i, line: &line, byte: byte)
                } else {
                    state = .unquoted
                    fieldStart = i - start
                    i += 1
                }

            case .unquoted:
                while i < end {
                    let byte = base[i]
                    // Every special byte (LF, CR, quote, comma) is at most 0x2C.
                    if byte > Self.comma {
                        i += 1
                        continue
                    }
                    if byte == Self.comma {
                        state = .fieldStart
                        if !recovering {
                            if let error = appendFieldBeforeComma(start: fieldStart, end: i - start, escaped: false, line: line) {
                                i += 1
                                return .failure(error)
                            }
                        }
                        i += 1
                        break
                    } else if byte == Self.lf || byte == Self.cr {
                        if !recovering {
                            spans.append(FieldSpan(start: fieldStart, end: i - start, escaped: false))
                        }
                        state = .fieldStart
                        return endRecord(at: &i, line: &line, byte: byte)
                    } else if byte == Self.quote && !recovering {
                        i += 1
                        recovering = true
                        return .failure(makeError(.quoteInUnquotedField, line: line))
                    } else {
                        i += 1
                    }
                }

            case .quoted:
                while i < end {
                    let byte = base[i]
                    if byte == Self.quote { break }
                    if byte == Self.lf { line += 1 }
                    i += 1
                }
                if i < end {
                    state = .quoteInQuoted
                    i += 1
                }

            case .quoteInQuoted:
                let byte = base[i]
                if byte == Self.quote {
                    fieldEscaped = true
                    state = .quoted
                    i += 1
                } else if byte == Self.comma {
                    state = .fieldStart
                    if !recovering {
                        if let error = appendFieldBeforeComma(start: fieldStart, end: i - 1 - start, escaped: fieldEscaped, line: line) {
                            i += 1
                            return .failure(error)
                        }
                    }
                    i += 1
                } else if byte == Self.lf || byte == Self.cr {
                    if !recovering {
                        spans.append(FieldSpan(start: fieldStart, end: i - 1 - start, escaped: fieldEscaped))
                    }
                    state = .fieldStart
                    return endRecord(at: &i, line: &line, byte: byte)
                } else {
                    // Recovery treats the rest of the field as unquoted text.
                    state = .unquoted
                    i += 1
                    if !recovering {
                        recovering = true
                        return .failure(makeError(.unexpectedCharacterAfterQuote, line: line))
                    }
                }
            }
        }
        return .needData
    }

    /// Consumes the line end at `i` and reports the end of the record.
    private func endRecord(at i: inout Int, line: inout Int, byte: UInt8) -> ScanOutcome {
        let contentEnd = i
        i += 1
        line += 1
        skipLineFeed = byte == Self.cr
        return .record(contentEnd: contentEnd, next: i)
    }

    /// Adds a field that is followed by a comma, so that at least one more field follows.
    private func appendFieldBeforeComma(start: Int, end: Int, escaped: Bool, line: Int) -> CSVError? {
        if spans.count + 1 >= maximumFields {
            recovering = true
            return makeError(.tooManyFields, line: line)
        }
        spans.append(FieldSpan(start: start, end: end, escaped: escaped))
        return nil
    }

    // MARK: - Records

    /// Turns the scanned record into a ``CSVRecord`` and moves on; returns `nil` for a skipped record.
    private func completeRecord(contentEnd: Int, next: Int) throws(CSVError) -> CSVRecord? {
        let start = recordStart
        let startLine = recordLine
        let wasRecovering = recovering
        recordStart = next
        scanIndex = next
        state = .fieldStart
        recovering = false
        recordLine = line
        recordsCompleted += 1
        defer { spans.removeAll(keepingCapacity: true) }

        if wasRecovering { return nil }
        if contentEnd - start > maximumRecordBytes {
            throw CSVError(kind: .recordTooLong, line: startLine, recordNumber: recordsCompleted)
        }

        // The bytes stay in the buffer until the next `fill()`.
        var fields: [String] = []
        fields.reserveCapacity(spans.count)
        for span in spans {
            let field: String?
            if span.start == span.end {
                field = ""
            } else if !span.escaped {
                field = String(validating: UnsafeBufferPointer(start: buffer + start + span.start, count: span.end - span.start), as: UTF8.self)
            } else {
                unescapeQuotes(UnsafeBufferPointer(start: buffer + start + span.start, count: span.end - span.start))
                field = unescaped.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
            }
            guard let field else {
                let line = invalidUTF8Line(recordStart: start, recordLine: startLine, span: span)
                throw CSVError(kind: .invalidUTF8, line: line, recordNumber: recordsCompleted)
            }
            fields.append(field)
        }
        return CSVRecord(fields: fields, recordNumber: recordsCompleted, line: startLine)
    }

    /// Copies a quoted field's content into `unescaped`, reading each `""` as `"`.
    private func unescapeQuotes(_ bytes: UnsafeBufferPointer<UInt8>) {
        unescaped.removeAll(keepingCapacity: true)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            unescaped.append(byte)
            // Inside a closed quoted field every quote is doubled.
            i += byte == Self.quote ? 2 : 1
        }
    }

    /// The physical line of the first invalid UTF-8 sequence in a field.
    private func invalidUTF8Line(recordStart start: Int, recordLine: Int, span: FieldSpan) -> Int {
        var line = recordLine
        for offset in 0..<span.start where buffer[start + offset] == Self.lf {
            line += 1
        }
        let content: [UInt8]
        if span.escaped {
            content = unescaped
        } else {
            content = Array(UnsafeBufferPointer(start: buffer + start + span.start, count: span.end - span.start))
        }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = content.makeIterator()
        var offset = 0
        decoding: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar):
                offset += scalar.count
            case .emptyInput, .error:
                break decoding
            }
        }
        for byte in content[..<offset] where byte == Self.lf {
            line += 1
        }
        return line
    }

    /// Handles the end of the input once every buffered byte has been scanned.
    private func finishAtEndOfInput() throws(CSVError) -> CSVRecord? {
        let start = recordStart
        let end = self.end
        switch state {
        case .quoted:
            finished = true
            throw makeError(.unterminatedQuote, line: recordLine)
        case .quoteInQuoted:
            if !recovering {
                spans.append(FieldSpan(start: fieldStart, end: end - 1 - start, escaped: fieldEscaped))
            }
        case .unquoted:
            if !recovering {
                spans.append(FieldSpan(start: fieldStart, end: end - start, escaped: false))
            }
        case .fieldStart:
            if !recovering {
                if end == start {
                    finished = true
                    return nil
                }
                // The record ended with a comma.
                spans.append(FieldSpan(start: end - start, end: end - start, escaped: false))
            }
        }
        let record = try completeRecord(contentEnd: end, next: end)
        if record == nil {
            finished = true
        }
        return record
    }

    private func makeError(_ kind: CSVError.Kind, line: Int) -> CSVError {
        CSVError(kind: kind, line: line, recordNumber: recordsCompleted + 1)
    }

    // MARK: - Input

    /// Skips a UTF-8 byte order mark at the start of the input.
    private func skipByteOrderMark() throws(CSVError) {
        checkedByteOrderMark = true
        while end - recordStart < 3, try fill() {}
        if end - recordStart >= 3,
           buffer[recordStart] == 0xEF, buffer[recordStart + 1] == 0xBB, buffer[recordStart + 2] == 0xBF {
            recordStart += 3
            scanIndex = recordStart
        }
    }

    /// Drops consumed bytes and reads the next chunk; returns `false` at the end of the input.
    private func fill() throws(CSVError) -> Bool {
        if sourceExhausted { return false }
        if recordStart > 0 {
            let kept = end - recordStart
            if kept > 0 {
                memmove(buffer, buffer + recordStart, kept)
            }
            discardedBytes += recordStart
            scanIndex -= recordStart
            end = kept
            recordStart = 0
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
        guard room > 0 else {
            // Unreachable: a record is reported too long before it can fill the buffer.
            recovering = true
            recordStart = scanIndex
            throw makeError(.recordTooLong, line: recordLine)
        }

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
                throw makeError(.ioFailure, line: line)
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
