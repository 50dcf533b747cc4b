package import VaultCore

/// The sealed values of one record in one byte string, as a store keeps them with the record's
/// row (issue #19: one row per record). Each envelope is unchanged and still bound by its
/// associated data to vault, entity, field, record, record version and key version; the packing
/// only saves a row (and a B-tree write) per value. Nothing here is trusted: the record's row
/// commits to exactly these entries (its sealed digest), which the services check.
///
/// Format 1, big-endian: `01`, entry count (u16), then per entry in field-name order (each name
/// once): name length (u8, 1…255) and UTF-8 name, key version (u32), sealed envelope length
/// (u32) and bytes, masked envelope length plus one (u32; 0: no masked view) and bytes.
package enum PackedSealedEntries {
    package static let format: UInt8 = 1

    /// Packs `entries` (any order; field names distinct).
    package static func pack(_ entries: [SealedEntry]) throws -> [UInt8] {
        let sorted = entries.sorted { $0.field < $1.field }
        guard sorted.count <= Int(UInt16.max) else { throw VaultError.invalidInput("a record has too many sealed values") }
        var out: [UInt8] = [format]
        out.reserveCapacity(3 + sorted.reduce(0) { $0 + 14 + $1.field.utf8.count + $1.sealed.count + ($1.masked?.count ?? 0) })
        append(UInt16(sorted.count), to: &out)
        var previous: String?
        for entry in sorted {
            let name = Array(entry.field.utf8)
            guard (1...255).contains(name.count), entry.field != previous, (0...Int64(UInt32.max)).contains(entry.keyVersion),
                  entry.sealed.count < Int(UInt32.max), (entry.masked?.count ?? 0) < Int(UInt32.max) - 1 else {
                throw VaultError.invalidInput("a sealed value cannot be packed (field name, key version or size out of range)")
            }
            previous = entry.field
            out.append(UInt8(name.count))
            out += name
            append(UInt32(entry.keyVersion), to: &out)
            append(UInt32(entry.sealed.count), to: &out)
            out += entry.sealed
            if let masked = entry.masked {
                append(UInt32(masked.count + 1), to: &out)
                out += masked
            } else {
                append(UInt32(0), to: &out)
            }
        }
        return out
    }

    /// The entries of a packed record, in field-name order. Anything but a well-formed packing
    /// (unknown format, cut short, trailing bytes, names out of order or repeated) is an
    /// integrity error naming `place`.
    package static func unpack(_ bytes: [UInt8], place: String) throws -> [SealedEntry] {
        var reader = Reader(bytes: bytes, place: place)
        guard try reader.byte() == format else { throw reader.malformed("an unknown format") }
        let count = Int(try reader.u16())
        var entries: [SealedEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try reader.byte())
            guard length > 0, let field = String(validating: try reader.take(length), as: UTF8.self) else { throw reader.malformed("a bad field name") }
            if let last = entries.last?.field, last >= field { throw reader.malformed("fields out of order") }
            let version = Int64(try reader.u32())
            let sealed = try reader.take(Int(try reader.u32()))
            let maskedLength = Int(try reader.u32())
            let masked = maskedLength == 0 ? nil : try reader.take(maskedLength - 1)
            entries.append(SealedEntry(field: field, keyVersion: version, sealed: Array(sealed), masked: masked.map(Array.init)))
        }
        guard reader.offset == bytes.count else { throw reader.malformed("trailing bytes") }
        return entries
    }

    private static func append(_ value: UInt16, to out: inout [UInt8]) {
        out += [UInt8(value >> 8), UInt8(value & 0xff)]
    }

    private static func append(_ value: UInt32, to out: inout [UInt8]) {
        out += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    private struct Reader {
        let bytes: [UInt8]
        let place: String
        var offset = 0

        func malformed(_ what: String) -> VaultError {
            VaultError.integrity("\(place): its sealed values are malformed (\(what); altered in the file)")
        }

        mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, count <= bytes.count - offset else { throw malformed("cut short") }
            defer { offset += count }
            return bytes[offset..<(offset + count)]
        }

        mutating func byte() throws -> UInt8 {
            guard let byte = try take(1).first else { throw malformed("cut short") }
            return byte
        }

        mutating func u16() throws -> UInt16 {
            let part = try take(2)
            return UInt16(part[part.startIndex]) << 8 | UInt16(part[part.startIndex + 1])
        }

        mutating func u32() throws -> UInt32 {
            let part = try take(4)
            return part.reduce(0) { $0 << 8 | UInt32($1) }
        }
    }
}
