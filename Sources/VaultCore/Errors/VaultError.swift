/// The one error type the vault library throws.
///
/// Messages name the thing that is wrong (a field, a row, a file) and never contain a key,
/// a passphrase or a personal value. Equality compares ``code`` only, so callers and tests
/// match on the kind of failure, not on wording.
public struct VaultError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Stable failure kinds; each front end maps them to its own signals.
    public enum Code: String, Sendable, CaseIterable {
        /// A value, option, file or header is not acceptable.
        case invalidInput
        /// The policy does not allow this principal to do this.
        case accessDenied
        /// The passphrase or key file does not unlock the principal.
        case badCredential
        /// The vault, customer, principal or file does not exist.
        case notFound
        /// Stored data failed authentication or is structurally corrupt.
        case integrity
        /// A uniqueness rule was violated, e.g. a duplicate e-mail.
        case conflict
        /// The operating system or SQLite failed.
        case io
        /// A vault feature this build does not support, e.g. a newer format.
        case unsupported
    }

    /// What the caller can do about a failure, said by what it does rather than by a tool's flag
    /// or command: each front end (the CLI, a service) words it in its own terms.
    public enum Remedy: Sendable, Equatable {
        /// Give one of the purposes the grant accepts.
        case givePurpose
        /// Replace the existing file (it is never overwritten otherwise).
        case replaceExisting
        /// Finish the unfinished key rotation first.
        case resumeRotation
        /// Rotate this field's keys first.
        case rotateFirst(field: String)
        /// Read the file with this field separator (`;`, `tab`, `|`).
        case useDelimiter(String)
        /// Import the file as a restore of a cvault export.
        case restoreExport
        /// Create a vault first.
        case createVault
        /// Check the access log alone (works on a read-only copy).
        case verifyAuditLog
        /// Check the whole vault.
        case verifyVault
        /// A key custodian applies the policy again, which re-provisions every keyring.
        case applyPolicy
        /// A key custodian opens the vault once (any command).
        case custodianOpen
        /// Restore the vault from a backup.
        case restoreBackup
        /// Give the erasure ledger file of the vault being replaced.
        case giveLedger(path: String)
    }

    public let code: Code
    /// A one-line, human-readable explanation without secrets or personal data.
    public let message: String
    /// What to do about it, when the thrower knows better than the code's general advice.
    public let hint: String?
    /// The step that fixes it, for a front end to name in its own words.
    public let remedy: Remedy?

    public init(_ code: Code, _ message: String, hint: String? = nil, remedy: Remedy? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
        self.remedy = remedy
    }

    /// The code in snake case, as JSON errors name it: `invalid_input`, `not_found`, …
    public var codeName: String {
        String(code.rawValue.flatMap { $0.isUppercase ? ["_", Character($0.lowercased())] : [$0] })
    }

    public var description: String { message }

    public static func == (lhs: VaultError, rhs: VaultError) -> Bool { lhs.code == rhs.code }

    // MARK: - Factories

    package static func invalidInput(_ message: String, hint: String? = nil, remedy: Remedy? = nil) -> VaultError { .init(.invalidInput, message, hint: hint, remedy: remedy) }
    package static func accessDenied(_ message: String, remedy: Remedy? = nil) -> VaultError { .init(.accessDenied, message, remedy: remedy) }
    package static func notFound(_ message: String, remedy: Remedy? = nil) -> VaultError { .init(.notFound, message, remedy: remedy) }
    package static func integrity(_ message: String, remedy: Remedy? = nil) -> VaultError { .init(.integrity, message, remedy: remedy) }
    package static func conflict(_ message: String, remedy: Remedy? = nil) -> VaultError { .init(.conflict, message, remedy: remedy) }
    package static func io(_ message: String, remedy: Remedy? = nil) -> VaultError { .init(.io, message, remedy: remedy) }
    package static let badCredential = VaultError(.badCredential, "the credential does not unlock this principal")
}
