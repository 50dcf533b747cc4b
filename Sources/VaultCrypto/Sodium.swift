import CSodium

/// The libsodium library as a whole.
public enum Sodium {
    /// The result of the one and only `sodium_init` call.
    ///
    /// A `static let` is initialised lazily, exactly once and thread-safely, which is what
    /// `sodium_init` needs; 0 means "initialised now", 1 "already initialised", -1 failure.
    private static let initializationResult: Int32 = sodium_init()

    /// Initialises libsodium once; later calls only report the first call's outcome.
    ///
    /// Every VaultCrypto entry point calls this itself, so callers need not; calling it early (for
    /// example at program start) just moves the one-time cost and surfaces a failure sooner.
    /// - Throws: ``CryptoError/Code/libraryFailure`` when `sodium_init` failed.
    public static func initialize() throws {
        guard initializationResult >= 0 else {
            throw CryptoError.libraryFailure(function: "sodium_init")
        }
    }

    /// Initialises libsodium for entry points that cannot throw; `false` when that failed.
    static var isReady: Bool {
        initializationResult >= 0
    }
}
