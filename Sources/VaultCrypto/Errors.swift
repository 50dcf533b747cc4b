// MARK: - CryptoError

/// An error from a VaultCrypto operation.
///
/// Errors are deliberately coarse: in particular every failure to open sealed data is
/// ``Code/authenticationFailed``, whatever the cause, so that an error never tells an
/// attacker which part of a forged input was wrong. `detail` names the operation or the length that
/// was wrong; it never contains key, passphrase or plaintext bytes.
///
/// Equality compares ``code`` only, so tests and callers can match an error without caring about
/// its wording:
///
/// ```swift
/// #expect(throws: CryptoError.authenticationFailed()) { try XChaCha20Poly1305.open(box, key: key, associatedData: ad) }
/// ```
public struct CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stable, matchable kind of a ``CryptoError``.
    public enum Code: String, Sendable {
        /// Sealed data, a signature-free envelope or a stream chunk did not authenticate (or was too short to).
        case authenticationFailed
        /// A key, nonce, salt or output length was not one the primitive accepts.
        case invalidLength
        /// A parameter other than a length was rejected (cost limits, context string, call order).
        case invalidParameters
        /// libsodium reported a failure that the arguments do not explain.
        case libraryFailure
        /// libsodium could not allocate the memory the operation needs (typically Argon2id).
        case outOfMemory
    }

    /// What went wrong, stable across releases.
    public let code: Code

    /// A human-readable explanation, for example `"crypto_pwhash failed"`; never contains secret bytes.
    public let detail: String

    init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    /// Compares the codes only: the detail wording is not part of an error's identity.
    public static func == (lhs: CryptoError, rhs: CryptoError) -> Bool {
        lhs.code == rhs.code
    }

    /// The code followed by the detail, for logs.
    public var description: String {
        "CryptoError.\(code.rawValue): \(detail)"
    }
}

// MARK: - Factories

extension CryptoError {
    /// Sealed input did not authenticate; deliberately says nothing about why.
    public static func authenticationFailed() -> CryptoError {
        CryptoError(code: .authenticationFailed, detail: "authentication failed")
    }

    /// A buffer had the wrong length.
    /// - Parameters:
    ///   - expected: The one length accepted.
    ///   - actual: The length received.
    ///   - what: A name for the buffer, such as `"key"`; must not contain secret data.
    public static func invalidLength(expected: Int, actual: Int, what: String) -> CryptoError {
        CryptoError(code: .invalidLength, detail: "\(what): expected \(expected) bytes, got \(actual)")
    }

    /// A buffer had a length outside the accepted range.
    /// - Parameters:
    ///   - expected: The range of accepted lengths.
    ///   - actual: The length received.
    ///   - what: A name for the buffer, such as `"output"`; must not contain secret data.
    public static func invalidLength(expected: ClosedRange<Int>, actual: Int, what: String) -> CryptoError {
        CryptoError(
            code: .invalidLength,
            detail: "\(what): expected \(expected.lowerBound)...\(expected.upperBound) bytes, got \(actual)"
        )
    }

    /// A parameter was rejected; `detail` must not contain secret data.
    public static func invalidParameters(_ detail: String) -> CryptoError {
        CryptoError(code: .invalidParameters, detail: detail)
    }

    /// A libsodium function returned an error the arguments do not explain.
    public static func libraryFailure(function: String) -> CryptoError {
        CryptoError(code: .libraryFailure, detail: "\(function) failed")
    }

    /// A libsodium function could not allocate the memory it needs.
    public static func outOfMemory(function: String) -> CryptoError {
        CryptoError(code: .outOfMemory, detail: "\(function) failed: not enough memory")
    }
}
