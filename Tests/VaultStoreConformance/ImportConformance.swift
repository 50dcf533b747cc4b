import VaultCore
import VaultStore

/// Imports' progress and refused records: come back as stored, per file; writing a file's
/// progress again replaces it; refused records are per file, in record order, replaced by number.
enum ImportConformance {
    static let checks: [StoreConformance.Check] = [
        .init(name: "imports: progress comes back per file as stored, and is replaced by a second write", run: progress),
        .init(name: "imports: refused records come back per file in record order, replaced by record number", run: rejects),
    ]

    static func entry(_ seed: Int, finished: Bool = false) -> StoredImport {
        StoredImport(digest: KeyStoreConformance.bytes(seed, 32), kind: seed % 2 == 0 ? "customers" : "transactions", recordsDone: 1_000 + seed,
                     accepted: 990, rejected: 10 + seed, alreadyStored: seed, updated: 2 * seed, startedAt: "2026-12-01T00:00:0\(seed % 10)Z",
                     updatedAt: "2026-12-01T01:00:00Z", finishedAt: finished ? "2026-12-01T02:00:00Z" : nil,
                     tag: seed == 3 ? nil : KeyStoreConformance.bytes(seed + 1, 32))
    }

    static func progress(_ store: any VaultStore) async throws {
        try requireEqual(try await store.read { tx in try tx.importEntries() }, [], "an empty store's imports")
        let entries = [entry(1), entry(2, finished: true), entry(3)]
        try await store.write { tx in for entry in entries { try tx.writeImport(entry) } }
        let (byDigest, all, none) = try await store.read { tx in
            (try entries.map { try tx.importEntry(digest: $0.digest) }, try tx.importEntries(), try tx.importEntry(digest: KeyStoreConformance.bytes(9, 32)))
        }
        try requireEqual(byDigest, entries.map { Optional($0) }, "each file's progress")
        try requireEqual(Set(all.map(\.digest)), Set(entries.map(\.digest)), "every file's progress")
        try requireEqual(none, nil, "a file never imported")
        var later = entries[0]
        later.recordsDone += 500
        later.finishedAt = "2026-12-03T00:00:00Z"
        later.tag = KeyStoreConformance.bytes(70, 32)
        let written = later
        try await store.write { tx in try tx.writeImport(written) }
        let (first, count) = try await store.read { tx in (try tx.importEntry(digest: written.digest), try tx.importEntries().count) }
        try requireEqual(first, written, "the progress written again")
        try requireEqual(count, 3, "files after writing one again")
    }

    static func rejects(_ store: any VaultStore) async throws {
        let (one, two) = (entry(1), entry(2))
        @Sendable func reject(_ file: StoredImport, _ record: Int, reason: String = "not an e-mail address") -> StoredImportReject {
            StoredImportReject(digest: file.digest, record: record, line: record + 1, field: "email", reason: reason,
                               tag: KeyStoreConformance.bytes(record, 32))
        }
        try await store.write { tx in
            try tx.writeImport(one)
            try tx.writeImport(two)
            for record in [7, 3, 5] { try tx.writeImportReject(reject(one, record)) }
            try tx.writeImportReject(reject(two, 3))
        }
        try await store.write { tx in try tx.writeImportReject(reject(one, 5, reason: "required")) }
        let (ofOne, ofTwo, all) = try await store.read { tx in
            var all: [StoredImportReject] = []
            try tx.forEachImportReject { all.append($0) }
            return (try tx.importRejects(digest: one.digest), try tx.importRejects(digest: two.digest), all)
        }
        try requireEqual(ofOne, [reject(one, 3), reject(one, 5, reason: "required"), reject(one, 7)], "file one's refused records in record order")
        try requireEqual(ofTwo, [reject(two, 3)], "file two's refused records")
        try requireEqual(all.count, 4, "every refused record")
    }
}
