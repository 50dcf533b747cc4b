import CustomerVault
import Foundation
import VaultCrypto

/// Reads passphrases from files or from the terminal without echo. Never from arguments.
enum PassphraseSource {
    /// Prompts on /dev/tty with echo off; asks twice when `confirm` is set.
    static func prompt(confirm: Bool, label: String = "Passphrase",
                       sources: String = "set CVAULT_PASSPHRASE, use --passphrase-file FILE or --key-file FILE") throws -> Credential {
        guard isatty(STDIN_FILENO) == 1, let tty = fopen("/dev/tty", "r+") else {
            throw VaultError(.invalidInput, "no \(label.lowercased()): \(sources), or run on a terminal")
        }
        defer { fclose(tty) }
        var first = try read(prompt: "\(label): ", tty: tty)
        defer { wipe(&first) }
        if confirm {
            var second = try read(prompt: "Repeat \(label.lowercased()): ", tty: tty)
            defer { wipe(&second) }
            guard constantTimeEquals(first, second) else { throw VaultError(.invalidInput, "the passphrases do not match") }
        }
        return try Credential.passphrase(bytes: first, source: "passphrase")
    }

    /// Refuses a new passphrase that ``PassphraseStrength`` finds weak, unless allowed.
    static func checkStrength(_ credential: Credential, allowWeak: Bool) throws {
        guard !allowWeak, let weakness = credential.passphraseWeakness else { return }
        throw VaultError(.invalidInput, "the new passphrase is too weak: \(weakness)",
                         hint: "choose a stronger one (four or more unrelated words), use a key file, or pass --allow-weak-passphrase for a test vault")
    }

    /// One line of sensitive input (a value to hash): from standard input when it is not a
    /// terminal, otherwise from a no-echo prompt.
    static func value(prompt: String) throws -> String {
        var bytes: [UInt8]
        if isatty(STDIN_FILENO) == 1, let tty = fopen("/dev/tty", "r+") {
            defer { fclose(tty) }
            bytes = try read(prompt: prompt, tty: tty)
        } else {
            bytes = []
            while bytes.count <= 4_096 {
                let c = getchar()
                if c == EOF || c == 0x0A { break }
                bytes.append(UInt8(truncatingIfNeeded: c))
            }
        }
        defer { wipe(&bytes) }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty, bytes.count <= 4_096, let text = String(validating: bytes, as: UTF8.self) else {
            throw VaultError(.invalidInput, "give one line of UTF-8 text (at most 4096 bytes) on standard input")
        }
        return text
    }

    private static func read(prompt: String, tty: UnsafeMutablePointer<FILE>) throws -> [UInt8] {
        fputs(prompt, tty)
        fflush(tty)
        let fd = fileno(tty)
        var saved = termios()
        tcgetattr(fd, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(fd, TCSAFLUSH, &silent)
        defer {
            tcsetattr(fd, TCSAFLUSH, &saved)
            fputs("\n", tty)
        }
        var bytes: [UInt8] = []
        while true {
            let c = fgetc(tty)
            if c == EOF || c == 0x0A { break }
            bytes.append(UInt8(truncatingIfNeeded: c))
            if bytes.count > Credential.maximumPassphraseBytes { break }
        }
        return bytes
    }
}
