import CustomerVault
import Foundation

/// A one-line progress bar with rate and ETA on a terminal; silent when stderr is not a terminal.
final class ProgressBar: @unchecked Sendable {
    private let enabled = isatty(STDERR_FILENO) == 1
    private let start = Date()
    private let label: String
    private let lock = NSLock()

    init(label: String) { self.label = label }

    /// For work counted in items of one kind (rotation's re-sealed values): done, rate, ETA.
    func update(done: Int, total: Int, unit: String) {
        guard enabled, total > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        let fraction = min(1, Double(done) / Double(total))
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let filled = Int(fraction * 30)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
        let text = String(format: "\r%@ [%@] %3.0f%%  %d of %d %@  %.0f/s  %@", label, bar, fraction * 100, done, total, unit, rate,
                          Self.remaining(fraction: fraction, elapsed: elapsed))
        FileHandle.standardError.write(Data(text.utf8))
    }

    func update(done: Int, total: Int, accepted: Int, rejected: Int) {
        guard enabled, total > 0 else { return }
        lock.lock()
        defer { lock.unlock() }
        let fraction = min(1, Double(done) / Double(total))
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(accepted + rejected) / elapsed : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let text = String(format: "\r%@ [%@] %3.0f%%  %d ok  %d rejected  %.0f rows/s  %@",
                          label, bar, fraction * 100, accepted, rejected, rate, Self.remaining(fraction: fraction, elapsed: elapsed))
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
        let filled = Int(fraction * 30)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
        let text = String(format: "\r%@ [%@] %3.0f%%  %.1f of %.1f MiB  %.1f MiB/s  %@",
                          label, bar, fraction * 100, Double(done) / 1_048_576, Double(total) / 1_048_576, rate,
                          Self.remaining(fraction: fraction, elapsed: elapsed))
        FileHandle.standardError.write(Data(text.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// "ETA 1m05s" while running, "took 12s" once done (never "ETA 0m00s").
    static func remaining(fraction: Double, elapsed: Double) -> String {
        guard fraction < 1 else { return "took " + duration(elapsed) }
        return "ETA " + (fraction > 0 ? duration(elapsed * (1 - fraction) / fraction) : "…")
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" }
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}

/// What Ctrl-C says during long, resumable work: what is kept and how to go on. SIGINT is caught
/// on a dispatch source; the handler prints the message and exits 130 (the transaction in
/// flight rolls back, as on any interruption, and every committed batch stays).
enum Interruption {
    static func announce(_ message: String) -> any DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            FileHandle.standardError.write(Data("\ninterrupted: \(message)\n".utf8))
            exit(130)
        }
        source.resume()
        return source
    }
}

/// The progress of a migration an open runs on a vault made by an older release: a bar (on a
/// terminal) only when there is one, and one line saying what was done.
final class MigrationBar: @unchecked Sendable {
    private let lock = NSLock()
    private var bar: ProgressBar?
    private var step: String?

    func report(_ progress: MigrationProgress) {
        lock.lock()
        defer { lock.unlock() }
        if bar == nil || step != progress.step {
            bar?.finish()
            bar = ProgressBar(label: "upgrading the vault's layout")
            step = progress.step
        }
        bar?.update(done: progress.done, total: max(progress.total, 1), unit: "values")
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard let bar, let step else { return }
        bar.finish()
        FileHandle.standardError.write(Data("vault layout upgraded: \(step)\n".utf8))
    }
}
