import Foundation
import Testing
@testable import CustomerVault

// MARK: - Helpers

/// What a reader produced, in order: records and errors.
private enum Item: Equatable, CustomStringConvertible {
    case record([String], number: Int, line: Int)
    case error(CSVError.Kind, line: Int, number: Int)

    var description: String {
        switch self {
        case .record(let fields, let number, let line): "record \(number) line \(line) \(fields)"
        case .error(let kind, let line, let number): "error \(kind) line \(line) record \(number)"
        }
    }
}

private func items(
    of reader: CSVReader,
    limit: Int = 10_000
) -> [Item] {
    var result: [Item] = []
    for _ in 0..<limit {
        do {
            guard let record = try reader.next() else { return result }
            result.append(.record(record.fields, number: record.recordNumber, line: record.line))
        } catch {
            result.append(.error(error.kind, line: error.line, number: error.recordNumber))
        }
    }
    Issue.record("reader did not end after \(limit) calls")
    return result
}

private func items(
    _ bytes: [UInt8],
    chunkSize: Int = CSVReader.defaultChunkSize,
    maximumRecordBytes: Int = CSVReader.defaultMaximumRecordBytes,
    maximumFields: Int = CSVReader.defaultMaximumFields
) -> [Item] {
    let reader = CSVReader(
        data: Data(bytes),
        maximumRecordBytes: maximumRecordBytes,
        maximumFields: maximumFields,
        chunkSize: chunkSize
    )
    return items(of: reader)
}

private func items(
    _ text: String,
    chunkSize: Int = CSVReader.defaultChunkSize,
    maximumRecordBytes: Int = CSVReader.defaultMaximumRecordBytes,
    maximumFields: Int = CSVReader.defaultMaximumFields
) -> [Item] {
    items(Array(text.utf8), chunkSize: chunkSize, maximumRecordBytes: maximumRecordBytes, maximumFields: maximumFields)
}

/// Just the fields of the records, errors left out.
private func rows(_ text: String, chunkSize: Int = CSVReader.defaultChunkSize) -> [[String]] {
    items(text, chunkSize: chunkSize).compactMap {
        if case .record(let fields, _, _) = $0 { fields } else { nil }
    }
}

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("CSVReaderTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

// MARK: - Well-formed input

@Suite("CSVReader")
struct CSVReaderTests {
    @Test func readsRecordsWithNumbersAndLines() {
        #expect(items("name,age\nAda,36\nAlan,41\n") == [
            .record(["name", "age"], number: 1, line: 1),
            .record(["Ada", "36"], number: 2, line: 2),
            .record(["Alan", "41"], number: 3, line: 3),
        ])
    }

    @Test func quotedFieldsKeepCommas() {
        #expect(rows(#"a,"12 Rue de la Paix, 75002 Paris",c"# + "\n") == [["a", "12 Rue de la Paix, 75002 Paris", "c"]])
    }

    @Test func doubledQuotesReadAsOneQuote() {
        #expect(rows(#""He said ""hi""","""","x""""y""#) == [[#"He said "hi""#, #"""#, #"x""y"#]])
    }

    @Test func quotedFieldsKeepLineEndsAndLinesAreCounted() {
        let text = "id,note\n1,\"first\nsecond\"\n2,\"a\r\nb\"\r\n3,\"lone\rcr\"\n4,end\n"
        #expect(items(text) == [
            .record(["id", "note"], number: 1, line: 1),
            .record(["1", "first\nsecond"], number: 2, line: 2),
            .record(["2", "a\r\nb"], number: 3, line: 4),
            .record(["3", "lone\rcr"], number: 4, line: 6),
            .record(["4", "end"], number: 5, line: 7),
        ])
    }

    @Test func byteOrderMarkIsSkipped() {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("name\nZoë\n".utf8)
        #expect(items(bytes) == [
            .record(["name"], number: 1, line: 1),
            .record(["Zoë"], number: 2, line: 2),
        ])
        // Only at the very start; elsewhere it is an ordinary character.
        #expect(rows("a\n\u{FEFF}b\n") == [["a"], ["\u{FEFF}b"]])
        // A file holding only a byte order mark has no records.
        #expect(items([0xEF, 0xBB, 0xBF]) == [])
    }

    @Test func crlfAndLoneCRLineEnds() {
        #expect(items("a,b\r\nc,d\r\n") == [
            .record(["a", "b"], number: 1, line: 1),
            .record(["c", "d"], number: 2, line: 2),
        ])
        #expect(items("a\rb\r\"c\"\rd") == [
            .record(["a"], number: 1, line: 1),
            .record(["b"], number: 2, line: 2),
            .record(["c"], number: 3, line: 3),
            .record(["d"], number: 4, line: 4),
        ])
    }

    @Test func lastRecordWithoutLineEnd() {
        #expect(rows("a,b\nc,d") == [["a", "b"], ["c", "d"]])
        #expect(rows("a,b\n\"c\",\"d\"") == [["a", "b"], ["c", "d"]])
        #expect(rows("a,") == [["a", ""]])
        #expect(rows("x") == [["x"]])
        #expect(rows("") == [])
    }

    @Test func emptyFields() {
        #expect(rows(",\na,\n,b\n,,\n\"\",\"\"\n\"\"\n") == [
            ["", ""], ["a", ""], ["", "b"], ["", "", ""], ["", ""], [""],
        ])
    }

    @Test func emptyLinesAreSkippedButCounted() {
        #expect(items("\n\na\n\n\r\nb\r\n\r\n\nc\n\n") == [
            .record(["a"], number: 1, line: 3),
            .record(["b"], number: 2, line: 6),
            .record(["c"], number: 3, line: 9),
        ])
        // A line of spaces is a record, not an empty line.
        #expect(rows(" \n") == [[" "]])
    }

    @Test func unicodeFields() {
        let text = "José Núñez,Zoë Ångström\n山田太郎,Ολγα Παπαδοπούλου\n\"🙂👍🏽, 👨‍👩‍👧\",Mary-Jane O'Neil\n"
        #expect(rows(text) == [
            ["José Núñez", "Zoë Ångström"],
            ["山田太郎", "Ολγα Παπαδοπούλου"],
            ["🙂👍🏽, 👨‍👩‍👧", "Mary-Jane O'Neil"],
        ])
    }

    @Test func readsFromFileAndReportsBytesRead() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("people.csv")
        let text = "name,city\n\"Núñez, José\",Madrid\nYamada,東京\n"
        try Data(text.utf8).write(to: url)

        let reader = try CSVReader(fileURL: url)
        #expect(reader.bytesRead == 0)
        #expect(try reader.next()?.fields == ["name", "city"])
        #expect(reader.bytesRead == 10)
        #expect(try reader.next()?.fields == ["Núñez, José", "Madrid"])
        #expect(try reader.next()?.fields == ["Yamada", "東京"])
        #expect(try reader.next() == nil)
        #expect(try reader.next() == nil)
        #expect(reader.bytesRead == text.utf8.count)
    }

    @Test func missingFileThrowsOnOpen() {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).csv")
        #expect(throws: (any Error).self) { try CSVReader(fileURL: url) }
    }

    // MARK: - Errors

    @Test func unterminatedQuoteNamesTheRecordLineAndEndsReading() {
        #expect(items("a,b\nc,\"never\nclosed\nat all") == [
            .record(["a", "b"], number: 1, line: 1),
            .error(.unterminatedQuote, line: 2, number: 2),
        ])
        #expect(items("\"") == [.error(.unterminatedQuote, line: 1, number: 1)])
    }

    @Test func characterAfterClosingQuote() {
        #expect(items("h\n\"a\nb\"x,c\nnext\n") == [
            .record(["h"], number: 1, line: 1),
            .error(.unexpectedCharacterAfterQuote, line: 3, number: 2),
            .record(["next"], number: 3, line: 4),
        ])
        // A space after the closing quote is not allowed either.
        #expect(items("\"a\" ,b\nc\n") == [
            .error(.unexpectedCharacterAfterQuote, line: 1, number: 1),
            .record(["c"], number: 2, line: 2),
        ])
    }

    @Test func quoteInsideUnquotedField() {
        #expect(items("h\nab\"c,d\ne\n") == [
            .record(["h"], number: 1, line: 1),
            .error(.quoteInUnquotedField, line: 2, number: 2),
            .record(["e"], number: 3, line: 3),
        ])
        // Recovery reads the stray quote as text: a later quoted field with a newline is skipped whole.
        #expect(items("5\"1,\"x\ny\",z\nok\n") == [
            .error(.quoteInUnquotedField, line: 1, number: 1),
            .record(["ok"], number: 2, line: 3),
        ])
    }

    @Test func invalidUTF8NamesTheLine() {
        var bytes = Array("h\nok,\"multi\nline ".utf8)
        bytes += [0xC3, 0x28]  // a lead byte followed by a non-continuation byte
        bytes += Array("\"\nafter\n".utf8)
        #expect(items(bytes) == [
            .record(["h"], number: 1, line: 1),
            .error(.invalidUTF8, line: 3, number: 2),
            .record(["after"], number: 3, line: 4),
        ])
        // In an escaped quoted field, and a lone continuation byte, and a truncated sequence at the end.
        #expect(items(Array("\"a\"\"\n".utf8) + [0xFF] + Array("\"\nb\n".utf8) + [0x80, 0x0A] + Array("c,".utf8) + [0xE2, 0x82]) == [
            .error(.invalidUTF8, line: 2, number: 1),
            .record(["b"], number: 2, line: 3),
            .error(.invalidUTF8, line: 4, number: 3),
            .error(.invalidUTF8, line: 5, number: 4),
        ])
    }

    @Test func tooManyFields() {
        #expect(items("a,b,c\na,b,c,d\n\"a\",\"b\",\"c\",\"d\"\na,b,c,\n1,2,3", maximumFields: 3) == [
            .record(["a", "b", "c"], number: 1, line: 1),
            .error(.tooManyFields, line: 2, number: 2),
            .error(.tooManyFields, line: 3, number: 3),
            .error(.tooManyFields, line: 4, number: 4),
            .record(["1", "2", "3"], number: 5, line: 5),
        ])
        #expect(items("x,y\n", maximumFields: 1) == [.error(.tooManyFields, line: 1, number: 1)])
    }

    @Test(arguments: [1, 3, 4, 7, CSVReader.defaultChunkSize])
    func recordTooLongAtTheLimitAndOneByteOver(chunkSize: Int) {
        let limit = 10
        let exact = String(repeating: "x", count: limit)
        let quotedExact = "\"" + String(repeating: "y", count: limit - 2) + "\""
        let text = "\(exact)\r\n\(exact)z\n\(quotedExact)\n\"\(exact)\"\nok\n\(exact)"
        #expect(items(text, chunkSize: chunkSize, maximumRecordBytes: limit) == [
            .record([exact], number: 1, line: 1),
            .error(.recordTooLong, line: 2, number: 2),
            .record([String(repeating: "y", count: limit - 2)], number: 3, line: 3),
            .error(.recordTooLong, line: 4, number: 4),
            .record(["ok"], number: 5, line: 5),
            .record([exact], number: 6, line: 6),
        ])
    }

    @Test func hugeRecordIsSkippedWithBoundedBuffer() {
        // An 8 MiB line (partly quoted, with newlines inside the quotes) between two good records.
        var bytes = Array("first\n".utf8)
        bytes += Array(repeating: UInt8(ascii: "a"), count: 4 << 20)
        bytes += Array(",\"".utf8)
        bytes += Array(repeating: UInt8(ascii: "\n"), count: 4 << 20)
        bytes += Array("\"\nlast\n".utf8)
        let reader = CSVReader(data: Data(bytes), chunkSize: 64 * 1024)
        #expect(items(of: reader) == [
            .record(["first"], number: 1, line: 1),
            .error(.recordTooLong, line: 2, number: 2),
            .record(["last"], number: 3, line: 2 + (4 << 20) + 1),
        ])
        #expect(reader.bufferCapacity <= CSVReader.defaultMaximumRecordBytes + 64 * 1024)
        #expect(reader.bytesRead == bytes.count)
    }

    @Test func readErrorIsIOFailure() throws {
        // Opening a directory succeeds on Linux; reading it fails.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let reader = try #require(try? CSVReader(fileURL: directory))
        #expect(items(of: reader) == [.error(.ioFailure, line: 1, number: 1)])
    }

    @Test func descriptionsNameTheLineButNoContent() {
        let error = CSVError(kind: .unterminatedQuote, line: 12, recordNumber: 11)
        #expect(error.description == "line 12: unterminated quoted field")

        let secret = "Jane Secret-Person"
        let texts = [
            "\"\(secret)",
            "\"\(secret)\"x\n",
            "\(secret)\"\n",
            "\(secret),\(secret),\(secret)\n",
            "\(secret)\(secret)\n",
        ]
        for text in texts {
            let reader = CSVReader(data: Data(text.utf8), maximumRecordBytes: 20, maximumFields: 2)
            let error = #expect(throws: CSVError.self) { try reader.next() }
            #expect(error?.description.hasPrefix("line 1: ") == true)
            #expect(error.map { "\($0)".contains("Jane") || "\($0)".contains("Secret") } == false)
        }
    }

    // MARK: - Chunk boundaries

    /// Inputs whose every byte is, for some chunk size, at a chunk boundary.
    static let tricky: [[UInt8]] = [
        [0xEF, 0xBB, 0xBF] + Array("a,b\r\n\"q,\r\nx\"\"y\",Zoë 山田 👨‍👩‍👧\r\n\r\n\"\",\n".utf8),
        Array("first\r\rthird\r\n\"lone\rcr\"\r\"\"\"\"\r\n,,\n€,\"€\"\n".utf8),
        Array("h\n\"bad\"x,\"\n\"\nab\"c\n\"😀\"\n\"open\nnever closed".utf8),
        Array("ok\n".utf8) + [0xF0, 0x9F, 0x98] + Array("\n\"é\"\"\",e\u{301}\n".utf8),
    ]

    @Test(arguments: 1...9)
    func chunkBoundariesDoNotChangeResults(chunkSize: Int) {
        for input in Self.tricky {
            #expect(items(input, chunkSize: chunkSize) == items(input))
        }
    }

    @Test func chunkBoundaryCases() {
        // The reference results, so that a wrong parse with any chunk size cannot hide.
        #expect(items(Self.tricky[0]) == [
            .record(["a", "b"], number: 1, line: 1),
            .record(["q,\r\nx\"y", "Zoë 山田 👨‍👩‍👧"], number: 2, line: 2),
            .record(["", ""], number: 3, line: 5),
        ])
        #expect(items(Self.tricky[1]) == [
            .record(["first"], number: 1, line: 1),
            .record(["third"], number: 2, line: 3),
            .record(["lone\rcr"], number: 3, line: 4),
            .record(["\""], number: 4, line: 5),
            .record(["", "", ""], number: 5, line: 6),
            .record(["€", "€"], number: 6, line: 7),
        ])
        #expect(items(Self.tricky[2]) == [
            .record(["h"], number: 1, line: 1),
            .error(.unexpectedCharacterAfterQuote, line: 2, number: 2),
            .error(.quoteInUnquotedField, line: 4, number: 3),
            .record(["😀"], number: 4, line: 5),
            .error(.unterminatedQuote, line: 6, number: 5),
        ])
        #expect(items(Self.tricky[3]) == [
            .record(["ok"], number: 1, line: 1),
            .error(.invalidUTF8, line: 2, number: 2),
            .record(["é\"", "e\u{301}"], number: 3, line: 3),
        ])
    }

    @Test func randomInputsGiveTheSameResultsForEveryChunkSize() {
        // Deterministic pseudo-random inputs made of the bytes that matter.
        let alphabet: [[UInt8]] = [[0x61], [0x2C], [0x22], [0x0A], [0x0D], [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xFF], [0x20]]
        var seed: UInt64 = 0x5EED
        func nextRandom() -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33)
        }
        for _ in 0..<300 {
            var input: [UInt8] = []
            for _ in 0..<(nextRandom() % 60) {
                input += alphabet[nextRandom() % alphabet.count]
            }
            let reference = items(input, maximumRecordBytes: 12, maximumFields: 4)
            for chunkSize in [1, 2, 3, 5] {
                #expect(items(input, chunkSize: chunkSize, maximumRecordBytes: 12, maximumFields: 4) == reference, "input \(input)")
            }
        }
    }

    @Test func randomWellFormedRecordsRoundTrip() {
        let pieces = ["a", "Zoë", "山田", "👍🏽", ",", "\"", "\n", "\r", "\r\n", " ", "x y", ""]
        var seed: UInt64 = 7
        func nextRandom(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(seed >> 33) % bound
        }
        for _ in 0..<200 {
            var expected: [[String]] = []
            var lines: [Int] = []
            var text = ""
            for _ in 0..<(1 + nextRandom(6)) {
                let fields = (0..<(1 + nextRandom(4))).map { _ in
                    (0..<nextRandom(4)).map { _ in pieces[nextRandom(pieces.count)] }.joined()
                }
                expected.append(fields)
                lines.append(1 + text.utf8.count(where: { $0 == 0x0A }))
                text += fields.map { field in
                    let special = field.isEmpty && fields.count == 1
                        || field.utf8.contains(where: { [0x2C, 0x22, 0x0D, 0x0A].contains($0) })
                    return special ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
                }.joined(separator: ",")
                text += nextRandom(2) == 0 ? "\n" : "\r\n"
            }
            let wanted = expected.indices.map { Item.record(expected[$0], number: $0 + 1, line: lines[$0]) }
            for chunkSize in [1, 3, CSVReader.defaultChunkSize] {
                #expect(items(text, chunkSize: chunkSize) == wanted)
            }
        }
    }

    // MARK: - UTF-8

    @Test func utf8ValidationMatchesTheStandardLibrary() {
        let cases: [[UInt8]] = [
            [], Array("plain ascii text!".utf8), Array("Zoë 山田 👨‍👩‍👧".utf8),
            [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF],  // overlong
            [0xED, 0xA0, 0x80], [0xED, 0x9F, 0xBF],  // a surrogate; the last scalar before them
            [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],  // U+10FFFF and above
            [0x80], [0xBF], [0xC2], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xFE], [0xFF],
            Array("12345678".utf8) + [0xC3] + Array("abcdefgh".utf8),
            Array("abcdefgh".utf8) + [0xC3, 0xA9] + Array("ijklmnop".utf8),
        ]
        for bytes in cases {
            let ours = bytes.withUnsafeBufferPointer { $0.firstInvalidUTF8Offset() }
            #expect((ours == nil) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
        #expect((Array("abcdefghij".utf8) + [0xE2, 0x28, 0xA1]).withUnsafeBufferPointer { $0.firstInvalidUTF8Offset() } == 10)

        // And on pseudo-random bytes.
        var seed: UInt64 = 42
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            seed = seed &* 6_364_136_223_846_793_005 &+ 1
            for _ in 0..<Int(seed >> 60) {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1
                let byte = UInt8(truncatingIfNeeded: seed >> 56)
                bytes.append(seed & 1 == 0 ? byte : byte & 0x7F)
            }
            let ours = bytes.withUnsafeBufferPointer { $0.firstInvalidUTF8Offset() }
            #expect((ours == nil) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }

    // MARK: - Memory

    /// Resident memory in bytes, or `nil` where /proc is not available.
    private static func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            return kilobytes.map { $0 * 1024 }
        }
        return nil
    }

    /// Writes a CSV file of at least `bytes` bytes in blocks; returns its record count and size.
    private static func writeLargeFile(at url: URL, bytes: Int) throws -> (records: Int, size: Int) {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let output = try FileHandle(forWritingTo: url)
        defer { try? output.close() }
        var records = 0
        var size = 0
        var block = ""
        while size < bytes {
            block.removeAll(keepingCapacity: true)
            for _ in 0..<5_000 {
                records += 1
                block += "\(records),José Núñez \(records),\"\(records) Rue de la Paix, 75002 Paris\",jose\(records)@example.com,+44 20 7946 \(records % 10_000)\n"
            }
            let data = Data(block.utf8)
            size += data.count
            try output.write(contentsOf: data)
        }
        return (records, size)
    }

    @Test func readerMemoryDoesNotGrowWithFileSize() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("big.csv")
        let (rowCount, size) = try Self.writeLargeFile(at: url, bytes: 50_000_000)

        let reader = try CSVReader(fileURL: url)
        var records = 0
        var peakRetained = reader.retainedBytes
        while let record = try reader.next() {
            records += 1
            #expect(record.fields.count == 5)
            if records % 1_000 == 0 {
                peakRetained = max(peakRetained, reader.retainedBytes)
            }
        }
        #expect(records == rowCount)
        #expect(reader.bytesRead == size)
        #expect(reader.bufferCapacity <= CSVReader.defaultMaximumRecordBytes + CSVReader.defaultChunkSize)
        // Short records: the reader holds little more than two chunks, however long the file.
        #expect(peakRetained < 256 << 10, "the reader held \(peakRetained) bytes")
    }

    /// Resident memory belongs to the whole test process, where other tests run in parallel (some
    /// derive Argon2id keys), so this check runs only when asked, alone:
    /// `CVAULT_RSS_TEST=1 swift test --filter residentMemoryDoesNotGrowWithFileSize`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CVAULT_RSS_TEST"] == "1"))
    func residentMemoryDoesNotGrowWithFileSize() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("big.csv")
        let (rowCount, _) = try Self.writeLargeFile(at: url, bytes: 50_000_000)

        let before = try #require(Self.residentBytes())
        var peak = before
        let reader = try CSVReader(fileURL: url)
        var records = 0
        while try reader.next() != nil {
            records += 1
            if records % 20_000 == 0, let now = Self.residentBytes() {
                peak = max(peak, now)
            }
        }
        #expect(records == rowCount)
        #expect(peak - before < 8 << 20, "resident memory grew by \(peak - before) bytes")
    }
}
