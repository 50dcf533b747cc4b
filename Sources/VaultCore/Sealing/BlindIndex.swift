package import VaultCrypto

/// Keyed BLAKE2b over a normalised value, truncated to the field's planned number of bits.
///
/// With R records and L bits about R / 2^L records share one index value, so a thief of the file
/// sees only coarse equality classes; a search decrypts the candidates and drops false positives.
package enum BlindIndex {
    package static func digest(_ normalized: String, key: SecretBytes, bits: Int) throws -> [UInt8] {
        var input = Array(normalized.utf8)
        defer { wipe(&input) }
        var full = try BLAKE2b.hash(input, key: key, outputLength: 32)
        let byteCount = (bits + 7) / 8
        var truncated = Array(full.prefix(byteCount))
        wipe(&full)
        let spareBits = byteCount * 8 - bits
        if spareBits > 0 {
            truncated[byteCount - 1] &= UInt8(0xFF) << UInt8(spareBits)
        }
        return truncated
    }

    /// Expected records per index value for `records` records: the leakage budget of a field.
    package static func expectedRecordsPerValue(records: Int, bits: Int) -> Double {
        Double(records) / Double(sign: .plus, exponent: bits, significand: 1)
    }
}
