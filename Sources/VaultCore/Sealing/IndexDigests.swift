/// The blind-index digests a customer's row commits to: one per searchable field it has, under
/// the index key version it was last written with. Stored as a blob: for each field in name order,
/// u8 name length ‖ name ‖ u32 version (big-endian) ‖ u8 digest length ‖ digest.
package struct IndexDigests: Sendable, Equatable {
    package struct Entry: Sendable, Equatable {
        package var version: UInt32
        package var digest: [UInt8]

        package init(version: UInt32, digest: [UInt8]) {
            self.version = version
            self.digest = digest
        }
    }

    /// Sorted by field name; a customer has at most a few searchable fields.
    private var sorted: [(field: String, entry: Entry)] = []

    package init() {}

    package init(_ digests: [(field: FieldSchema, version: UInt32, digest: [UInt8])]) {
        for entry in digests { self[entry.field.name] = Entry(version: entry.version, digest: entry.digest) }
    }

    package subscript(field: String) -> Entry? {
        get { sorted.first { $0.field == field }?.entry }
        set {
            sorted.removeAll { $0.field == field }
            if let newValue {
                sorted.append((field, newValue))
                sorted.sort { $0.field < $1.field }
            }
        }
    }

    package var fields: [String] { sorted.map(\.field) }

    package static func == (lhs: IndexDigests, rhs: IndexDigests) -> Bool { lhs.encoded == rhs.encoded }

    package var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sorted.reduce(0) { $0 + 6 + $1.field.utf8.count + $1.entry.digest.count })
        for (field, entry) in sorted {
            bytes.append(UInt8(truncatingIfNeeded: field.utf8.count))
            bytes += field.utf8
            withUnsafeBytes(of: entry.version.bigEndian) { bytes += $0 }
            bytes.append(UInt8(truncatingIfNeeded: entry.digest.count))
            bytes += entry.digest
        }
        return bytes
    }

    /// Parses the stored blob; nil when it is not in the vault's format.
    package init?(encoded bytes: [UInt8]) {
        var offset = 0
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }
        while offset < bytes.count {
            guard let nameLength = take(1)?.first, let name = take(Int(nameLength)).flatMap({ String(validating: $0, as: UTF8.self) }),
                  let version = take(4).map({ $0.reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }),
                  let digestLength = take(1)?.first, let digest = take(Int(digestLength)),
                  self[name] == nil, sorted.last.map({ $0.field < name }) ?? true else { return nil }
            sorted.append((name, Entry(version: version, digest: Array(digest))))
        }
    }
}
