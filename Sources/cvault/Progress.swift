import Foundation

/// A one-line progress bar with rate and ETA on a terminal; silent when stderr is not a terminal.
final class ProgressBar: @unchecked Sendable {
    private let enabled = isatty(STDERR_FILENO) == 1
    private let start = Date()
    private let label: String
    private let lock = NSLock()

    init(label: String) { self.label = label }

    func update(done: Int, total: Int, accepted: Int, rejected: Int) {
        guard enabled, total > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        let fraction = min(1, Double(done) / Double(total))
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(accepted + rejected) / elapsed : 0
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let text = String(format: "\r%@ [%@] %3.0f%%  %d ok  %d rejected  %.0f rows/s  ETA %@",
                          label, bar, fraction * 100, accepted, rejected, rate, Self.duration(eta))
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// For byte streams (backups): MiB done and MiB/s.
    func update(bytes done: Int64, of total: Int64) {
        guard enabled, total > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        let fraction = min(1, Double(done) / Double(total))
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed / 1_048_576 : 0
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let filled = Int(fraction * 30)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
        let text = String(format: "\r%@ [%@] %3.0f%%  %.1f of %.1f MiB  %.1f MiB/s  ETA %@",
                          label, bar, fraction * 100, Double(done) / 1_048_576, Double(total) / 1_048_576, rate, Self.duration(eta))
        FileHandle.standardError.write(Data(text.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
    }
}
