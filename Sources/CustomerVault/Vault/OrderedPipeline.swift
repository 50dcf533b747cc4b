import Dispatch
import Foundation
import VaultCore

extension RecordCodec {
    /// Runs `produce` for 0..<count on all cores in the background while `consume` takes each
    /// outcome in index order on the calling thread as soon as it is ready.
    ///
    /// The single writer inserts record i while later records are still being sealed, instead of
    /// waiting for the whole batch (``concurrently(_:_:)``) and then leaving the other cores idle.
    /// It returns, or rethrows what `consume` throws, only after every `produce` call has ended,
    /// so no sealing outlives the caller's transaction.
    static func pipelined<T: Sendable>(_ count: Int, produce: @escaping @Sendable (Int) throws -> T,
                                       consume: (Int, Result<T, any Error>) throws -> Void) throws {
        let slots = OrderedSlots<T>(count: count)
        let producers = DispatchGroup()
        producers.enter()
        DispatchQueue.global().async {
            inRuns(count) { range in slots.fill(range, range.map { index in Result { try produce(index) } }) }
            producers.leave()
        }
        defer { producers.wait() }
        for index in 0..<count {
            try consume(index, slots.take(index))
        }
    }

    /// Runs `body` on all cores over consecutive runs of up to 16 of the indices 0..<count, so that
    /// each run's outcomes are handed over under one lock: per record, the lock traffic and wake-ups
    /// (a futex call or more each) cost more than the sealing.
    static func inRuns(_ count: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let run = max(1, min(16, count / (2 * ProcessInfo.processInfo.activeProcessorCount)))
        DispatchQueue.concurrentPerform(iterations: (count + run - 1) / run) { chunk in
            body((chunk * run)..<min(count, (chunk + 1) * run))
        }
    }
}

/// Outcomes filled in any order by producers and taken in index order by one consumer.
private final class OrderedSlots<T: Sendable>: @unchecked Sendable {
    // @unchecked: every access to `outcomes` and `awaited` holds `condition`'s lock.
    private let condition = NSCondition()
    private var outcomes: [Result<T, any Error>?]
    /// The index the consumer sleeps on, if it does: only filling that one wakes it.
    private var awaited: Int?

    init(count: Int) {
        outcomes = Array(repeating: nil, count: count)
    }

    func fill(_ range: Range<Int>, _ filled: [Result<T, any Error>]) {
        condition.lock()
        for (index, outcome) in zip(range, filled) { outcomes[index] = outcome }
        if let awaited, range.contains(awaited) { condition.signal() }
        condition.unlock()
    }

    /// Waits until `index` is filled, then hands it over (the slot is emptied).
    func take(_ index: Int) -> Result<T, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let outcome = outcomes[index] {
                outcomes[index] = nil
                awaited = nil
                return outcome
            }
            awaited = index
            condition.wait()
        }
    }
}
