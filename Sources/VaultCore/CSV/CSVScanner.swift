/// The byte-level state machine behind ``CSVReader``: finds records and fields in a byte buffer
/// that the reader refills, and decodes them.
///
/// A value type so that a whole scan runs under one access to the reader's stored property,
/// without a dynamic exclusivity check per field.
package struct CSVScanner {
    package enum Outcome {
        /// Every buffered byte was scanned and the record goes on.
        case needData
        /// The record ends at `contentEnd` (line end excluded); the next one starts at `next`.
        case record(contentEnd: Int, next: Int)
        /// An empty line was skipped.
        case emptyLine
        /// An error in the current record; scanning goes on in recovery mode.
        case failure(CSVError)
    }

    private enum State {
        case fieldStart, unquoted, quoted, quoteInQuoted
    }

    private struct FieldSpan {
        /// Offsets relative to the record start, content only (quotes excluded).
        package var start: Int
        package var end: Int
        package var escaped: Bool
    }

    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D
    private static let quote: UInt8 = 0x22
    private static let comma: UInt8 = 0x2C

    package let maximumRecordBytes: Int
    package let maximumFields: Int

    /// Where the current record starts in the buffer.
    package private(set) var recordStart = 0
    /// The next byte to look at.
    package private(set) var scanIndex = 0
    /// An error was reported in the current record; its remaining bytes are skipped, not kept.
    private var recovering = false
    /// The physical line where the current record starts.
    package private(set) var recordLine = 1
    /// The physical line of the next byte to look at.
    package private(set) var line = 1
    /// Records ended so far, faulty ones included (skipped empty lines are not records).
    package private(set) var recordsCompleted = 0

    private var state = State.fieldStart
    private var fieldStart = 0
    private var fieldEscaped = false
    private var spans: [FieldSpan] = []
    /// The previous record ended with a CR; a directly following LF belongs to it.
    private var skipLineFeed = false
    private var unescaped: [UInt8] = []

    package init(maximumRecordBytes: Int, maximumFields: Int) {
        self.maximumRecordBytes = maximumRecordBytes
        self.maximumFields = maximumFields
    }

    /// Bytes held by the scanner's own storage (for tests): at most `maximumFields` spans and one
    /// unescaped field.
    package var retainedBytes: Int {
        spans.capacity * MemoryLayout<FieldSpan>.stride + unescaped.capacity
    }

    /// The number of the record being read, for errors.
    package var currentRecordNumber: Int { recordsCompleted + 1 }

    /// The buffer dropped `count` bytes from its front.
    package mutating func bufferDidDrop(_ count: Int) {
        recordStart -= count
        scanIndex -= count
    }

    /// Skips `count` bytes at the start of the current record (a byte order mark).
    package mutating func skip(_ count: Int) {
        recordStart += count
        scanIndex = recordStart
    }

    /// Called when every buffered byte is scanned: returns where the bytes that the buffer must
    /// keep start. A faulty record's bytes are not kept.
    package mutating func prepareForMoreData() -> Int {
        if recovering {
            recordStart = scanIndex
        }
        return recordStart
    }

    // MARK: - Scanning

    /// Scans `base[scanIndex ..< end]` until the current record ends, an error is found, or more
    /// bytes are needed.
    package mutating func scan(_ base: UnsafePointer<UInt8>, end: Int) -> Outcome {
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
        defer {
            self.state = state
            self.scanIndex = i
        }
        // A record is too long once it has more than `maximumRecordBytes` bytes before its line end,
        // so scanning stops after that many bytes and one more: the result depends on the position
        // of the problem only, never on how the input was chunked.
        let tooLongAt = start + maximumRecordBytes + 1
        let limit = recovering ? end : min(end, tooLongAt)

        while i < limit {
            switch state {
            case .fieldStart:
                let byte = base[i]
                if byte == Self.quote {
                    state = .quoted
                    fieldStart = i + 1 - start
                    fieldEscaped = false
                    i += 1
                } else if byte == Self.comma {
                    if let error = appendFieldBeforeComma(start: i - start, end: i - start, escaped: false) {
                        i += 1
                        return .failure(error)
                    }
                    i += 1
                } else if byte == Self.lf || byte == Self.cr {
                    if !recovering {
                        if i == start {
                            i += 1
                            line += 1
                            recordLine = line
                            recordStart = i
                            skipLineFeed = byte == Self.cr
                            return .emptyLine
                        }
                        spans.append(FieldSpan(start: i - start, end: i - start, escaped: false))
                    }
                    return endRecord(at: &i, byte: byte)
                } else {
                    state = .unquoted
                    fieldStart = i - start
                    i += 1
                }

            case .unquoted:
                while i < limit {
                    let byte = base[i]
                    // Every special byte (LF, CR, quote, comma) is at most 0x2C.
                    if byte > Self.comma {
                        i += 1
                        continue
                    }
                    if byte == Self.comma {
                        state = .fieldStart
                        if let error = appendFieldBeforeComma(start: fieldStart, end: i - start, escaped: false) {
                            i += 1
                            return .failure(error)
                        }
                        i += 1
                        break
                    } else if byte == Self.lf || byte == Self.cr {
                        if !recovering {
                            spans.append(FieldSpan(start: fieldStart, end: i - start, escaped: false))
                        }
                        state = .fieldStart
                        return endRecord(at: &i, byte: byte)
                    } else if byte == Self.quote && !recovering {
                        // Recovery reads the quote as text.
                        i += 1
                        recovering = true
                        return .failure(CSVError(kind: .quoteInUnquotedField, line: line, recordNumber: currentRecordNumber))
                    } else {
                        i += 1
                    }
                }

            case .quoted:
                var lineEnds = 0
                while i < limit {
                    let byte = base[i]
                    if byte == Self.quote { break }
                    if byte == Self.lf { lineEnds += 1 }
                    i += 1
                }
                line += lineEnds
                if i < limit {
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
                    if let error = appendFieldBeforeComma(start: fieldStart, end: i - 1 - start, escaped: fieldEscaped) {
                        i += 1
                        return .failure(error)
                    }
                    i += 1
                } else if byte == Self.lf || byte == Self.cr {
                    if !recovering {
                        spans.append(FieldSpan(start: fieldStart, end: i - 1 - start, escaped: fieldEscaped))
                    }
                    state = .fieldStart
                    return endRecord(at: &i, byte: byte)
                } else {
                    // Recovery reads the rest of the field as unquoted text.
                    state = .unquoted
                    i += 1
                    if !recovering {
                        recovering = true
                        return .failure(CSVError(kind: .unexpectedCharacterAfterQuote, line: line, recordNumber: currentRecordNumber))
                    }
                }
            }
        }
        if !recovering && i == tooLongAt {
            recovering = true
            return .failure(CSVError(kind: .recordTooLong, line: recordLine, recordNumber: currentRecordNumber))
        }
        return .needData
    }

    /// Consumes the line end at `i` and reports the end of the record.
    private mutating func endRecord(at i: inout Int, byte: UInt8) -> Outcome {
        let contentEnd = i
        i += 1
        line += 1
        skipLineFeed = byte == Self.cr
        return .record(contentEnd: contentEnd, next: i)
    }

    /// Adds a field followed by a comma (so at least one more field follows), unless recovering.
    private mutating func appendFieldBeforeComma(start: Int, end: Int, escaped: Bool) -> CSVError? {
        if recovering { return nil }
        if spans.count + 1 >= maximumFields {
            recovering = true
            return CSVError(kind: .tooManyFields, line: line, recordNumber: currentRecordNumber)
        }
        spans.append(FieldSpan(start: start, end: end, escaped: escaped))
        return nil
    }

    // MARK: - Records

    /// Decodes the record that ends at `contentEnd` and moves on to `next`; returns `nil` for the
    /// end of a record whose error was already reported.
    ///
    /// - Throws: ``CSVError/Kind/invalidUTF8``; the record is consumed either way.
    package mutating func completeRecord(_ base: UnsafePointer<UInt8>, contentEnd: Int, next: Int) throws(CSVError) -> CSVRecord? {
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

        var fields: [String] = []
        fields.reserveCapacity(spans.count)
        for span in spans {
            let bytes = UnsafeBufferPointer(start: base + start + span.start, count: span.end - span.start)
            let field: String?
            if bytes.isEmpty {
                field = ""
            } else if span.escaped {
                unescapeQuotes(bytes)
                field = unescaped.withUnsafeBufferPointer(Self.decode)
            } else {
                field = Self.decode(bytes)
            }
            guard let field else {
                let line = invalidUTF8Line(base, recordStart: start, recordLine: startLine, span: span)
                throw CSVError(kind: .invalidUTF8, line: line, recordNumber: recordsCompleted)
            }
            fields.append(field)
        }
        return CSVRecord(fields: fields, recordNumber: recordsCompleted, line: startLine)
    }

    /// Handles the end of the input, once every byte has been scanned.
    ///
    /// - Throws: ``CSVError/Kind/unterminatedQuote`` if the input ends inside quotes; the errors of
    ///   ``completeRecord(_:contentEnd:next:)`` for a last record without a line end.
    package mutating func finishAtEndOfInput(_ base: UnsafePointer<UInt8>, end: Int) throws(CSVError) -> CSVRecord? {
        let start = recordStart
        switch state {
        case .quoted:
            throw CSVError(kind: .unterminatedQuote, line: recordLine, recordNumber: currentRecordNumber)
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
                if end == start { return nil }
                // The record ended with a comma.
                spans.append(FieldSpan(start: end - start, end: end - start, escaped: false))
            }
        }
        return try completeRecord(base, contentEnd: end, next: end)
    }

    // MARK: - Decoding

    /// A string from UTF-8 bytes, or `nil` if they are not valid UTF-8.
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.firstInvalidUTF8Offset() == nil else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Copies a quoted field's content into `unescaped`, reading each `""` as `"`.
    private mutating func unescapeQuotes(_ bytes: UnsafeBufferPointer<UInt8>) {
        unescaped.removeAll(keepingCapacity: true)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            unescaped.append(byte)
            // Inside a complete quoted field every quote is doubled.
            i += byte == Self.quote ? 2 : 1
        }
    }

    /// The physical line of the first invalid UTF-8 sequence in a field.
    private func invalidUTF8Line(_ base: UnsafePointer<UInt8>, recordStart start: Int, recordLine: Int, span: FieldSpan) -> Int {
        var line = recordLine
        for offset in 0..<span.start where base[start + offset] == Self.lf {
            line += 1
        }
        let content = span.escaped
            ? unescaped
            : Array(UnsafeBufferPointer(start: base + start + span.start, count: span.end - span.start))
        let invalidOffset = content.withUnsafeBufferPointer { $0.firstInvalidUTF8Offset() } ?? content.count
        for byte in content[..<invalidOffset] where byte == Self.lf {
            line += 1
        }
        return line
    }
}
