// libFuzzer entry points. Built only by `scripts/fuzz` (CVAULT_FUZZ=1, --sanitize=fuzzer), where
// libFuzzer supplies `main`. The target is chosen by CVAULT_FUZZ_TARGET; with
// CVAULT_FUZZ_WRITE_SEEDS=DIR the binary writes each target's seed inputs under DIR and exits.
@_spi(Fuzzing) import CustomerVault
import Foundation

nonisolated(unsafe) private var target: FuzzTarget = .csv

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    if let directory = environment["CVAULT_FUZZ_WRITE_SEEDS"] {
        do {
            for target in FuzzTarget.allCases {
                let folder = URL(fileURLWithPath: directory).appendingPathComponent(target.rawValue)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for (name, bytes) in try target.seeds() {
                    try Data(bytes).write(to: folder.appendingPathComponent("seed-" + name))
                }
            }
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("cannot write the seeds: \(error)\n".utf8))
            exit(1)
        }
    }
    guard let name = environment["CVAULT_FUZZ_TARGET"], let chosen = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set CVAULT_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    target = chosen
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size <= target.maximumInputBytes else { return -1 }
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    target.run(input)
    return 0
}
