/// Builds the unambiguous byte strings that are hashed, signed or bound as associated data.
///
/// Every variable-length part is length-prefixed, so two different tuples never encode alike.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(domain: String) { append(domain) }

    /// With room for about `capacity` bytes (hot paths: one allocation instead of several).
    init(domain: String, capacity: Int) {
        bytes.reserveCapacity(capacity)
        append(domain)
    }

    mutating func append(_ string: String) {
        append(UInt32(string.utf8.count))
        bytes += string.utf8
    }

    mutating func append(_ data: [UInt8]) {
        append(UInt32(data.count))
        bytes += data
    }

    mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    mutating func append(_ value: Int64) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    mutating func append(_ value: UInt8) { bytes.append(value) }
}
