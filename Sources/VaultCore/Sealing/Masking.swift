/// Masked views of personal values, computed at write time and sealed under the field's mask key,
/// so a role granted only the masked view never holds the key to the full value.
package enum Masking {
    package static func mask(_ value: String, as mask: FieldSchema.Mask) -> String {
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
}
