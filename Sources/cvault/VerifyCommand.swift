import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check every row, tag, signature and sealed value of the vault (vault.verify).",
            discussion: """
                Reads the whole vault in one snapshot and checks what it trusts: the SQLite schema against \
                what cvault's migrations create, the signed schema, policy and policy history, every \
                principal's certificate and key chain, every key grant, every write session, every row's \
                integrity tag, every record's sealed values against what its row commits to (opening each \
                with the keys this principal holds; a key custodian holds them all), every blind-index \
                entry, the erasure ledger's signatures and the whole access log. Nothing is repaired and no \
                value is printed. The first problem is reported with its table and row (exit 6).

                Example:
                  cvault verify --key-file admin.key
                """)

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let report = try await global.openVault().integrity.verify()
            if global.json { try Output.json(report); return }
            Output.line("""
                vault verified: \(report.records) records (\(report.valuesOpened) sealed values opened, \(report.valuesNotOpened) not held), \
                \(report.taggedRows) tagged rows, \(report.indexEntries) index entries, \(report.principals) principals, \(report.grants) grants, \
                \(report.writeSessions) write sessions, \(report.policies) policies, \(report.erasures) erasures, \(report.auditEntries) access-log entries
                """)
        }
    }
}
