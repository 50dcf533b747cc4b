/// Builds the unambiguous byte strings that are hashed, signed or bound as associated data.
///
/// Every variable-length part is length-prefixed, so two different tuples never encode alike.
package struct ByteWriter {
    package private(set) var bytes: [UInt8] = []

    package init(domain: String) { append(domain) }

    /// With room for about `capacity` bytes (hot paths: one allocation instead of several).
    package init(domain: String, capacity: Int) {
        bytes.reserveCapacity(capacity)
        append(domain)
    }

    package mutating func append(_ string: String) {
        append(UInt32(string.utf8.count))
        bytes += string.utf8
    }

    package mutating func append(_ data: [UInt8]) {
        append(UInt32(data.count))
        bytes += data
    }

    package mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    package mutating func append(_ value: Int64) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    package mutating func append(_ value: UInt8) { bytes.append(value) }
}
