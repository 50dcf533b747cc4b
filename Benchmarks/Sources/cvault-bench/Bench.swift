// Benchmarks that need the library rather than the `cvault` process. Run through Benchmarks/run.
//
// cvault-bench lookups --vault PATH --emails FILE [--count N]
//   The vault's audited e-mail lookup against plain SQLite doing the same durable work (an
//   indexed select plus a synchronous audit-row insert in one transaction). PATH is a vault made
//   by `cvault import`; FILE holds one e-mail per line (from the same data). Needs
//   CVAULT_PASSPHRASE. Prints JSON: median and p95 microseconds per lookup for both sides.
//
// cvault-bench floors --vault PATH
//   The cost of the work the design requires, alone (see Floors.swift). Prints JSON.
import CustomerVault
import Foundation

struct Options {
    var vault = ""
    var emails = ""
    var count = 2_000

    var command = ""

    init(_ arguments: [String]) throws {
        command = arguments.dropFirst().first ?? ""
        var iterator = arguments.dropFirst(2).makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--vault": vault = value
            case "--emails": emails = value
            case "--count": count = Int(value) ?? count
            default: throw BenchError("unknown option \(flag)")
            }
        }
        switch command {
        case "lookups" where !vault.isEmpty && !emails.isEmpty, "floors" where !vault.isEmpty: break
        default: throw BenchError("usage: cvault-bench lookups --vault PATH --emails FILE [--count N] | cvault-bench floors --vault PATH")
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func percentile(_ samples: [Double], _ p: Double) -> Double {
    let sorted = samples.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func microseconds(since start: UInt64) -> Double { Double(now() - start) / 1_000 }

func printJSON(_ result: [String: Double]) throws {
    let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

@main
enum Bench {
    static func main() async {
        do {
            let options = try Options(CommandLine.arguments)
            if options.command == "floors" {
                try printJSON(try Floors.measure(vault: options.vault))
                return
            }
            let emails = Array(try String(contentsOfFile: options.emails, encoding: .utf8)
                .split(separator: "\n").map(String.init).prefix(options.count))
            guard let passphrase = ProcessInfo.processInfo.environment["CVAULT_PASSPHRASE"] else { throw BenchError("set CVAULT_PASSPHRASE") }
            let vault = try await CustomerVault.open(at: options.vault, principal: "admin", credential: .passphrase(passphrase))
            var vaultSamples: [Double] = []
            var misses = 0
            for email in emails {
                let start = now()
                if try await vault.customers.find(field: "email", equalTo: email).count != 1 { misses += 1 }
                vaultSamples.append(microseconds(since: start))
            }
            // The gate and one access-log entry with almost no work inside: the cost of auditing a read.
            var gateSamples: [Double] = []
            for _ in emails {
                let start = now()
                _ = try await vault.audit.head()
                gateSamples.append(microseconds(since: start))
            }
            try vault.close()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cvault-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let (plainSamples, selectSamples) = try plainBaseline(emails: emails, directory: directory)
            let result: [String: Double] = [
                "lookups": Double(emails.count), "misses": Double(misses),
                "vault_median_us": percentile(vaultSamples, 0.5), "vault_p95_us": percentile(vaultSamples, 0.95),
                "plain_median_us": percentile(plainSamples, 0.5), "plain_p95_us": percentile(plainSamples, 0.95),
                "gate_audit_median_us": percentile(gateSamples, 0.5), "plain_select_median_us": percentile(selectSamples, 0.5),
            ]
            try printJSON(result)
        } catch {
            FileHandle.standardError.write(Data("cvault-bench: \(error)\n".utf8))
            exit(1)
        }
    }
}
