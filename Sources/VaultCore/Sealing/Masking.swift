/// Masked views of personal values, computed at write time and sealed under the field's mask key,
/// so a role granted only the masked view never holds the key to the full value.
package enum Masking {
    package static func mask(_ value: String, as mask: FieldSchema.Mask) -> String {
        asciiMask(value, as: mask) ?? maskByCharacters(value, as: mask)
    }

    /// The masks on characters (grapheme clusters): the definition.
    package static func maskByCharacters(_ value: String, as mask: FieldSchema.Mask) -> String {
        switch mask {
        case .email:
            guard let at = value.firstIndex(of: "@"), let first = value.first else { return "***" }
            return "\(first)***\(value[at...])"
        case .last4:
            let digits = value.filter(\.isNumber)
            return "***-***-" + String(digits.suffix(4))
        case .initial:
            return value.split(separator: " ").compactMap { $0.first.map { "\($0)." } }.joined(separator: " ")
        case .prefix(let count):
            return String(value.prefix(count)) + "***"
        }
    }

    /// The same masks on bytes, for ASCII text without a carriage return (where every byte is one
    /// character: CR LF would be one), which is most values; nil otherwise. Character iteration
    /// was a sixth of an import's sealing time. `MaskingTests` holds the two to the same output.
    package static func asciiMask(_ value: String, as mask: FieldSchema.Mask) -> String? {
        let bytes = value.utf8
        guard bytes.allSatisfy({ $0 < 0x80 && $0 != 0x0D }) else { return nil }
        func text(_ slice: some Sequence<UInt8>) -> String { String(decoding: Array(slice), as: UTF8.self) }
        switch mask {
        case .email:
            guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), let first = bytes.first else { return "***" }
            return text([first]) + "***" + text(bytes[at...])
        case .last4:
            let digits = bytes.filter { (0x30...0x39).contains($0) }
            return "***-***-" + text(digits.suffix(4))
        case .initial:
            return bytes.split(separator: UInt8(ascii: " ")).compactMap { $0.first.map { text([$0, UInt8(ascii: ".")]) } }.joined(separator: " ")
        case .prefix(let count):
            return text(bytes.prefix(max(count, 0))) + "***"
        }
    }
}
