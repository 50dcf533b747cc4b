package import VaultCrypto

/// The hash-chained, signed access log's format: how an entry is hashed and what its fields hold.
///
/// Format 2: `hash = BLAKE2b-256("cvault.audit.v2" ‖ seq ‖ at ‖ principal ‖ signer public key ‖
/// role ‖ action ‖ purpose ‖ reason ‖ target ‖ fields ‖ outcome ‖ error code ‖ detail ‖ policy
/// hash ‖ terms ‖ previous hash)`, `signature = Ed25519(hash)` by the acting principal. The first
/// entry chains to `BLAKE2b-256("cvault.audit.genesis" ‖ vault id)`. Format 1 (the first releases)
/// hashed fewer columns and is still verified.
package enum AuditChain {
    package static let currentFormat: Int64 = 2

    package static func genesisHash(vaultID: [UInt8]) throws -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.audit.genesis")
        writer.append(vaultID)
        return try BLAKE2b.hash(writer.bytes)
    }

    package static func entryHash(format: Int64, seq: Int64, entry: AuditEntry, signerPublicKey: [UInt8], previousHash: [UInt8]) throws -> [UInt8] {
        var writer = ByteWriter(domain: format == 1 ? "cvault.audit.v1" : "cvault.audit.v2")
        writer.append(seq)
        writer.append(entry.at)
        writer.append(entry.principal)
        if format >= 2 { writer.append(signerPublicKey) }
        writer.append(entry.role)
        writer.append(entry.action)
        writer.append(entry.purpose ?? "")
        if format >= 2 { writer.append(entry.reason ?? "") }
        writer.append(entry.target)
        writer.append(entry.fields.joined(separator: ","))
        writer.append(entry.outcome.rawValue)
        if format >= 2 { writer.append(entry.errorCode) }
        writer.append(entry.detail)
        if format >= 2 {
            writer.append(entry.policyHash)
            writer.append(entry.terms.joined(separator: ","))
        }
        writer.append(previousHash)
        return try BLAKE2b.hash(writer.bytes)
    }

    /// The sequence number after `seq`; a number at the end of the range is an edit of the file.
    package static func following(_ seq: Int64) throws -> Int64 {
        let (next, overflow) = seq.addingReportingOverflow(1)
        guard !overflow, seq >= 0 else { throw VaultError.integrity("the access log's newest entry has sequence number \(seq) (altered in the file)") }
        return next
    }

    /// Record ids as sorted ranges (`customers:1-40,42`), so every id stays findable by an access-log
    /// filter on one customer while a page of consecutive ids stays short.
    package static func bulkTarget(entity: Entity, ids: [Int64]) -> String {
        var parts: [String] = []
        let sorted = Array(Set(ids)).sorted()
        var index = 0
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? String(sorted[index]) : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return "\(entity.rawValue):" + parts.joined(separator: ",")
    }

    /// Whether a target names customer `id` (directly or within a range).
    package static func target(_ target: String, names id: Int64) -> Bool {
        for part in target.split(separator: ";") where part.hasPrefix("customers:") {
            for range in part.dropFirst("customers:".count).split(separator: ",") {
                let bounds = range.split(separator: "-").compactMap { Int64($0) }
                if bounds.count == 1, bounds[0] == id { return true }
                if bounds.count == 2, (bounds[0]...max(bounds[0], bounds[1])).contains(id) { return true }
            }
        }
        return false
    }

    /// A search term as the access log keeps it: BLAKE2b-128 keyed with the vault's audit key over
    /// the field and the term's normalised form. Holders of the audit key can test a guess
    /// (``CustomerVault/auditTermDigest(field:value:)``); nobody else learns the term.
    package static func termDigest(field: String, form: String, key: SecretBytes) throws -> String {
        var writer = ByteWriter(domain: "cvault.audit-term.v1")
        writer.append(field)
        writer.append(form)
        return Hex.encode(try BLAKE2b.hash(writer.bytes, key: key, outputLength: 16))
    }

    package static func policyHash(_ source: String) -> String {
        (try? BLAKE2b.hash(Array(source.utf8), outputLength: 16)).map(Hex.encode) ?? ""
    }
}
