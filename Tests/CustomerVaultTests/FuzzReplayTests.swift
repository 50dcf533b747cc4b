@_spi(Fuzzing) import CustomerVault
import Foundation
import Testing

/// Replays the committed fuzz corpus and every input that once crashed a target
/// (`Tests/FuzzCorpus`, grown by `scripts/fuzz`) through the same entry points libFuzzer calls.
/// A regression crashes this test process; a broken invariant stops it with its message.
@Suite("Fuzz corpus replay")
struct FuzzReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus")

    static func files(in folder: URL, prefix: String = "") -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test("every corpus input and past crash runs without crashing", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        let inputs = Self.files(in: Self.corpus.appendingPathComponent(target.rawValue))
        let crashes = Self.files(in: Self.corpus.appendingPathComponent("crashes"), prefix: target.rawValue + "-")
        // Every target has at least its seeds committed; an empty folder would make this test vacuous.
        #expect(inputs.count >= (try target.seeds()).count)
        for file in inputs + crashes {
            target.run(Array(try Data(contentsOf: file)))
        }
    }

    @Test("seeds, committed and current, are accepted: each target reaches past its first check", arguments: FuzzTarget.allCases)
    func seedsAccepted(_ target: FuzzTarget) throws {
        let committed = Self.files(in: Self.corpus.appendingPathComponent(target.rawValue), prefix: "seed-")
        #expect(!committed.isEmpty)
        for file in committed {
            #expect(target.run(Array(try Data(contentsOf: file))), "\(file.lastPathComponent) of \(target.rawValue) is refused")
        }
        for (name, bytes) in try target.seeds() {
            #expect(target.run(bytes), "seed \(name) of \(target.rawValue) is refused")
        }
    }

    @Test("damaged seeds are refused, not accepted", arguments: FuzzTarget.allCases)
    func damagedSeedsRefused(_ target: FuzzTarget) throws {
        // A sanity check on the harness itself: a target that accepted everything would find nothing.
        for (name, bytes) in try target.seeds() where target == .backup || target == .envelope && bytes.first == 0 {
            var damaged = bytes
            damaged[damaged.count / 2] ^= 0x10
            #expect(!target.run(damaged), "damaged seed \(name) of \(target.rawValue) was accepted")
        }
    }
}
