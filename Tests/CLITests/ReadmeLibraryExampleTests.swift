import CustomerVault
import Foundation
import Testing

/// The README's library example, compiled against the public API (the test target imports the
/// library without `@testable`, as a client does) and checked to be the README's text verbatim.
@Suite("README library example")
struct ReadmeLibraryExampleTests {
    @Test("the README's Swift example is this file's example, line for line")
    func readmeShowsThisExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let body = source.components(separatedBy: "// README example begins\n")[1].components(separatedBy: "    // README example ends")[0]
        // The body is indented by one level inside the function; the README's is not.
        let example = body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }
        let lines = example.filter { !$0.hasPrefix("import ") }.joined(separator: "\n")
        #expect(readme.contains(lines), "README.md's library example differs from ReadmeLibraryExampleTests.example()")
    }
}

/// Never called: it must compile, and it is the README's example.
private func example() async throws {
    // README example begins

    let vault = try await CustomerVault.open(
        at: "crm.vault", principal: "admin",
        credential: .passphrase(ProcessInfo.processInfo.environment["CVAULT_PASSPHRASE"] ?? ""))
    defer { try? vault.close() }

    do {
        let id = try await vault.customers.add(["name": "Ada Lovelace", "email": "ada@example.com", "region": "UK"])
        // A handle that states a purpose (grants may require one; it goes to the access log).
        let ticket = try vault.withPurpose("support_ticket", reason: "ticket 4711")
        let customer = try await ticket.customers.get(id)   // fields in the role's views; customer.masked lists masked ones
        let found = try await vault.customers.find(field: "email", equalTo: "ADA@example.com")
        try await vault.customers.update(id, set: ["phone": "+44 20 7946 0123"])
        _ = try await vault.history.add(.interactions, customerID: id,
                                        values: ["occurred_at": "2025-03-04T10:22:01Z", "channel": "phone",
                                                 "summary": "Asked about delivery"])
        let report = try await vault.imports.file(.customers, from: "customers.csv")
        print(customer.fields.count, found.count, report.accepted, report.rejects.count)
    } catch let error as VaultError {
        switch error.code {
        case .badCredential: print("wrong passphrase")
        case .integrity: print("tampered or corrupt data: \(error.message)")   // messages never hold values
        case .conflict, .invalidInput, .accessDenied, .notFound, .io, .unsupported: print(error.message)
        }
    }
    // README example ends
}
