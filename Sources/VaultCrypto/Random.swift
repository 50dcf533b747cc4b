import CSodium

/// Cryptographically secure random values from libsodium (`randombytes_*`).
///
/// Use it for nonces, salts and identifiers; use ``SecretBytes/init(randomCount:)`` for keys, so
/// they start life in wiped memory.
public enum SecureRandom {
    /// Returns `count` random bytes (`randombytes_buf`); an empty array when `count` ≤ 0.
    ///
    /// libsodium aborts the process rather than return weak randomness, so this cannot fail.
    public static func bytes(_ count: Int) -> [UInt8] {
        _ = Sodium.isReady
        guard count > 0 else { return [] }
        var result = [UInt8](repeating: 0, count: count)
        withMutableBytes(of: &result) { pointer, count in
            randombytes_buf(pointer, count)
        }
        return result
    }

    /// Returns a uniformly distributed value in `0..<upperBound` (`randombytes_uniform`, no modulo bias).
    ///
    /// Returns 0 when `upperBound` is 0 or 1 (the range `0..<0` is empty; libsodium returns 0).
    public static func uniform(_ upperBound: UInt32) -> UInt32 {
        _ = Sodium.isReady
        return randombytes_uniform(upperBound)
    }
}
