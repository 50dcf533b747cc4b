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
            DispatchQueue.concurrentPerform(iterations: count) { index in
                slots.fill(index, Result { try produce(index) })
            }
            producers.leave()
        }
        defer { producers.wait() }
        for index in 0..<count {
            try consume(index, slots.take(index))
        }
    }
}

/// Outcomes filled in any order by producers and taken in index order by one consumer.
private final class OrderedSlots<T: Sendable>: @unchecked Sendable {
    // @unchecked: every access to `outcomes` holds `condition`'s lock.
    private let condition = NSCondition()
    private var outcomes: [Result<T, any Error>?]

    init(count: Int) {
        outcomes = Array(repeating: nil, count: count)
    }

    func fill(_ index: Int, _ outcome: Result<T, any Error>) {
        condition.lock()
        outcomes[index] = outcome
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until `index` is filled, then hands it over (the slot is emptied).
    func take(_ index: Int) -> Result<T, any Error> {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let outcome = outcomes[index] {
                outcomes[index] = nil
                return outcome
            }
            condition.wait()
        }
    }
}
