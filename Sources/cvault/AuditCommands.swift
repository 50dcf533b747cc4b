import ArgumentParser
import CustomerVault
import Foundation

extension CVault {
    struct AuditCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "audit",
            abstract: "Read, checkpoint and verify the access log.",
            discussion: """
                Every access attempt, allowed or denied, is an entry: time, principal, role, action, \
                purpose and reason, target ids, fields and the view used, outcome, the policy in force, \
                and keyed digests of search terms. Entries form a hash chain, each signed by the acting \
                principal. `audit verify` needs no credential, only the public keys in the vault; keep \
                the output of `audit head` somewhere else and pass it to `audit verify --expect-head` to \
                detect a cut or rewritten log.
                """,
            subcommands: [Log.self, Head.self, Verify.self, Hash.self])
    }
}

extension CVault.AuditCommand {
    struct Log: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "log",
            abstract: "List access-log entries, oldest first (audit.read).",
            discussion: """
                Example: cvault audit log --customer 42 --since 2026-01-01T00:00:00Z --principal alice
                Page with --after SEQ (the last sequence number shown); --follow keeps printing new entries. \
                With --json the output is JSON Lines, a stream: one entry an object a line (with --follow too).
                """)

        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("of"), help: ArgumentHelp("Only entries by this principal.", valueName: "principal")) var principalFilter: String?
        @Option(help: "Only entries whose target includes this customer id.") var customer: Int64?
        @Option(help: "Only entries of this action (customer.read, export, …).") var action: String?
        @Option(help: ArgumentHelp("Only entries at or after this time.", valueName: "ISO-8601")) var since: String?
        @Option(help: ArgumentHelp("Only entries at or before this time.", valueName: "ISO-8601")) var until: String?
        @Option(help: "Start after this sequence number.") var after: Int64 = 0
        @Option(help: "At most this many entries (1–10000).") var limit = 100
        @Flag(help: "After the entries so far, keep printing new ones (Ctrl-C to stop).") var follow = false

        func validate() throws {
            for time in [since, until].compactMap({ $0 }) where !time.hasSuffix("Z") || time.count < 10 {
                throw ValidationError("times are ISO 8601 in UTC, e.g. 2026-01-31T00:00:00Z (got a value without 'Z')")
            }
        }

        func run() async throws {
            let vault = try await global.openVault()
            let filter = AuditFilter(principal: principalFilter, customer: customer, action: action, since: since, until: until)
            let entries = try await vault.audit.log(filter: filter, after: after, limit: limit)
            print(entries)
            guard follow else { return }
            try await vault.audit.follow(filter: filter, after: entries.last?.seq ?? after) { print($0) }
        }

        private func print(_ entries: [AuditRecord]) {
            for entry in entries {
                if global.json {
                    try? Output.json(entry)
                } else {
                    let purpose = entry.purpose.map { " purpose=\($0)" } ?? ""
                    let reason = entry.reason.map { " reason=\"\($0)\"" } ?? ""
                    let code = entry.errorCode.isEmpty ? "" : "(\(entry.errorCode))"
                    let fields = entry.fields.isEmpty ? "" : " fields=\(entry.fields)"
                    let terms = entry.terms.isEmpty ? "" : " terms=\(entry.terms)"
                    Output.line("\(entry.seq)\t\(entry.at)\t\(entry.principal)(\(entry.role))\t\(entry.action)\t\(entry.outcome)\(code)\t\(entry.target)\(purpose)\(reason)\(fields)\(terms)\t\(entry.detail)")
                }
            }
        }
    }

    struct Head: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "head",
            abstract: "Print a signed checkpoint of the log's head (SEQ:HASH) to keep outside the vault (audit.read).", discussion: "Example: cvault audit head > checkpoint.txt")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let vault = try await global.openVault()
            let checkpoint = try await vault.audit.head()
            if global.json { try Output.json(checkpoint); return }
            Output.line(checkpoint.description)
            Output.note("vault \(checkpoint.vaultID), taken by \(checkpoint.principal) at \(checkpoint.at), signature \(checkpoint.signature)")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Verify the whole access log with public keys only (no credential).",
            discussion: """
                Checks sequence numbers, every hash, the chain, every signature against the signer's \
                certified public key, and with --expect-head that the checkpointed entry is still there \
                unchanged. Exit 0 when intact; 6 naming the first bad entry otherwise.

                Example: cvault audit verify --expect-head \"$(cat checkpoint.txt)\"
                """)

        @Option(name: .long, help: ArgumentHelp("Path of the vault file (or CVAULT_VAULT).", valueName: "path")) var vault: String?
        @Option(help: ArgumentHelp("A checkpoint from `cvault audit head`.", valueName: "SEQ:HASH")) var expectHead: String?
        @Flag(help: "Print machine-readable JSON.") var json = false

        func run() async throws {
            let result = try await CustomerVault.verifyAuditLog(at: try GlobalOptions.vaultPath(vault), expect: expectHead)
            if json { try Output.json(result); return }
            let checkpoint = result.checkpointMatched == true ? "; checkpoint \(expectHead ?? "") present and unchanged" : ""
            Output.line("audit log intact: \(result.entries) entries, head \(result.headSeq):\(result.headHash)\(checkpoint)")
        }
    }

    struct Hash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash",
            abstract: "Print the digest under which a search for a value appears in the log (audit.read).",
            discussion: """
                The value is read from standard input (or a no-echo prompt on a terminal), never from \
                an argument. Then look for the digest: cvault audit log --action customer.search --json | grep DIGEST

                Example: echo ada@example.com | cvault audit hash --field email
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "The searchable field: email, phone or name.") var field: String

        func run() async throws {
            let vault = try await global.openVault()
            let value = try PassphraseSource.value(prompt: "Value to hash: ")
            let digests = try await vault.audit.termDigest(field: field, value: value)
            if global.json {
                try Output.json(TermDigest(field: field, digest: digests.first ?? "", earlierDigest: digests.count > 1 ? digests[1] : nil))
            } else {
                Output.line(digests.first ?? "")
                if digests.count > 1 { Output.line("\(digests[1])  (the form earlier releases recorded for this name: accents and dotted I kept)") }
            }
        }
    }
}

/// `cvault audit hash --json`: the digest to look for and, for a name written differently by
/// earlier releases, the one older entries hold (null otherwise).
struct TermDigest: Encodable {
    var field: String
    var digest: String
    var earlierDigest: String?

    enum CodingKeys: String, CodingKey { case field, digest, earlierDigest }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(field, forKey: .field)
        try container.encode(digest, forKey: .digest)
        try container.encode(earlierDigest, forKey: .earlierDigest)
    }
}
