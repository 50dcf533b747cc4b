extension UnsafeBufferPointer<UInt8> {
    /// The offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629:
    /// no overlong forms, no surrogates, nothing above U+10FFFF), or `nil` if all bytes are valid.
    package func firstInvalidUTF8Offset() -> Int? {
        guard let base = baseAddress else { return nil }
        let raw = UnsafeRawPointer(base)
        var i = 0
        let count = self.count
        while i < count {
            // ASCII fast path: eight bytes at a time.
            if i + 8 <= count, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            let lead = self[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= count else { return i }
            let second = self[i + 1]
            guard second >= low, second <= high else { return i }
            var j = i + 2
            while j < i + length {
                guard self[j] & 0xC0 == 0x80 else { return i }
                j += 1
            }
            i += length
        }
        return nil
    }
}
