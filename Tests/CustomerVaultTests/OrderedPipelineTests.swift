import Foundation
import Testing
@testable import CustomerVault

/// The import's writer takes sealed records in file order while later ones are still being sealed.
@Suite("Ordered pipeline (seal on all cores, write in order)")
struct OrderedPipelineTests {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func add() { lock.lock(); value += 1; lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return value }
    }

    struct Odd: Error {}

    @Test("every outcome reaches the consumer once, in index order, failures included, whatever order producers finish in")
    func inOrder() throws {
        var seen: [Int] = []
        var failures: [Int] = []
        try RecordCodec.pipelined(2_000, produce: { index -> Int in
            // Uneven work so that producers finish out of order.
            if index % 7 == 0 { usleep(UInt32(index % 5) * 50) }
            if index % 97 == 0 { throw Odd() }
            return index * 3
        }, consume: { index, outcome in
            switch outcome {
            case .success(let value): #expect(value == index * 3); seen.append(index)
            case .failure: failures.append(index)
            }
        })
        #expect(seen + failures == Array(0..<2_000).filter { $0 % 97 != 0 } + Array(0..<2_000).filter { $0 % 97 == 0 })
        #expect(failures == Array(stride(from: 0, to: 2_000, by: 97)))
    }

    @Test("a consumer that throws stops the writer, and no producer is still running when the error arrives")
    func throwWaitsForProducers() {
        let finished = Counter()
        #expect(throws: Odd.self) {
            try RecordCodec.pipelined(500, produce: { index -> Int in
                usleep(200)
                finished.add()
                return index
            }, consume: { index, _ in
                if index == 10 { throw Odd() }
            })
        }
        #expect(finished.count == 500, "sealing outlived the transaction: \(finished.count) of 500 produce calls had ended")
    }

    @Test("an empty batch produces and consumes nothing")
    func empty() throws {
        var calls = 0
        try RecordCodec.pipelined(0, produce: { _ -> Int in 0 }, consume: { _, _ in calls += 1 })
        #expect(calls == 0)
    }
}
