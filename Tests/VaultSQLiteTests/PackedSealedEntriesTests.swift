import Testing
import VaultCore
import VaultStore

/// The packed form of a record's sealed values (format 1): what is packed comes back exactly, and
/// anything but a well-formed packing is an integrity error, never a crash or a partial read.
@Suite("Packed sealed values")
struct PackedSealedEntriesTests {
    static let entries = [
        SealedEntry(field: "phone", keyVersion: 3, sealed: Array(repeating: 7, count: 61), masked: Array(repeating: 8, count: 45)),
        SealedEntry(field: "email", keyVersion: 1, sealed: Array(repeating: 5, count: 70), masked: nil),
        SealedEntry(field: "name", keyVersion: 4_000_000_000, sealed: [], masked: []),
    ]

    @Test("entries come back exactly, in field order, whatever order they were packed in")
    func roundTrip() throws {
        let packed = try PackedSealedEntries.pack(Self.entries)
        #expect(try PackedSealedEntries.unpack(packed, place: "customers 1") == Self.entries.sorted { $0.field < $1.field })
        #expect(try PackedSealedEntries.pack(Self.entries.reversed()) == packed)
        #expect(try PackedSealedEntries.unpack(try PackedSealedEntries.pack([]), place: "customers 1") == [])
    }

    @Test("every cut, trailing bytes, another format, repeated or unordered fields: an integrity error naming the record")
    func malformed() throws {
        let packed = try PackedSealedEntries.pack(Self.entries)
        var cases: [[UInt8]] = (0..<packed.count).map { Array(packed.prefix($0)) }
        cases.append(packed + [0])
        cases.append([2] + packed.dropFirst())
        // Field names repeated or out of order, written by hand (pack refuses them).
        let one = Array(try PackedSealedEntries.pack([Self.entries[1]]).dropFirst(3))
        cases.append([1, 0, 2] + one + one)
        let two = Array(try PackedSealedEntries.pack([Self.entries[0]]).dropFirst(3))
        cases.append([1, 0, 2] + two + one)
        var refused = 0
        for bytes in cases {
            do {
                _ = try PackedSealedEntries.unpack(bytes, place: "customers 9")
            } catch let error as VaultError where error.code == .integrity && error.message.contains("customers 9") {
                refused += 1
            }
        }
        #expect(refused == cases.count, "\(refused) of \(cases.count) malformed packings refused")
        #expect(throws: VaultError.self) { try PackedSealedEntries.pack([Self.entries[0], Self.entries[0]]) }
    }
}
