/// The one error type the vault library throws.
///
/// Messages name the thing that is wrong (a field, a row, a file) and never contain a key,
/// a passphrase or a personal value. Equality compares ``code`` only, so callers and tests
/// match on the kind of failure, not on wording.
public struct VaultError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable failure kinds. Each maps to one exit code of the `cvault` tool.
    public enum Code: String, Sendable, CaseIterable {
        /// A value, option, file or header is not acceptable (exit 2).
        case invalidInput
        /// The policy does not allow this principal to do this (exit 3).
        case accessDenied
        /// The passphrase or key file does not unlock the principal (exit 4).
        case badCredential
        /// The vault, customer, principal or file does not exist (exit 5).
        case notFound
        /// Stored data failed authentication or is structurally corrupt (exit 6).
        case integrity
        /// A uniqueness rule was violated, e.g. a duplicate e-mail (exit 1).
        case conflict
        /// The operating system or SQLite failed (exit 1).
        case io
        /// A vault feature this build does not support, e.g. a newer format (exit 1).
        case unsupported

        /// The `cvault` exit code for this kind of failure.
        public var exitCode: Int32 {
            switch self {
            case .invalidInput: 2
            case .accessDenied: 3
            case .badCredential: 4
            case .notFound: 5
            case .integrity: 6
            case .conflict, .io, .unsupported: 1
            }
        }
    }

    public let code: Code
    /// A one-line, human-readable explanation without secrets or personal data.
    public let message: String
    /// What to do about it, when the thrower knows better than the code's general advice.
    public let hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    /// The code as scripts see it (`cvault --json` errors): `invalid_input`, `not_found`, …
    public var codeName: String {
        String(code.rawValue.flatMap { $0.isUppercase ? ["_", Character($0.lowercased())] : [$0] })
    }

    public var description: String { message }

    public static func == (lhs: VaultError, rhs: VaultError) -> Bool { lhs.code == rhs.code }

    // MARK: - Factories

    static func invalidInput(_ message: String, hint: String? = nil) -> VaultError { .init(.invalidInput, message, hint: hint) }
    static func accessDenied(_ message: String) -> VaultError { .init(.accessDenied, message) }
    static func notFound(_ message: String) -> VaultError { .init(.notFound, message) }
    static func integrity(_ message: String) -> VaultError { .init(.integrity, message) }
    static func conflict(_ message: String) -> VaultError { .init(.conflict, message) }
    static func io(_ message: String) -> VaultError { .init(.io, message) }
    static let badCredential = VaultError(.badCredential, "the credential does not unlock this principal")
}
