// The cost of the work the vault's design requires, measured alone with the primitives the vault
// calls: what no implementation of that design could go below on this machine. Benchmarks/run
// sets these beside the targets, so a missed target shows whether the design or the code misses it.
//
// - kdf_ms: one Argon2id INTERACTIVE derivation (every passphrase unlock runs one).
// - seal_ms_one_core: one XChaCha20-Poly1305 seal per sealed view stored in the vault (full and
//   masked), at their average stored length, with the vault's associated-data length and a fresh
//   random nonce each; plus one keyed BLAKE2b per blind-index entry. One core.
// - open_ms_one_core: one XChaCha20-Poly1305 open per stored value (its full view), as a key
//   rotation opens each value once before sealing it again. One core.
// - sign_us: one Ed25519 signature of a 32-byte entry hash (every access-log entry carries one),
//   median of 1,000.
// Counts and lengths come from the imported vault's rows (ciphertext lengths only).
import Foundation
import GRDB
import VaultCrypto
import VaultStore

enum Floors {
    /// Format-1 envelope: version byte, key version, nonce, tag (FieldEnvelope).
    static let envelopeOverhead = 1 + 4 + XChaCha20Poly1305.nonceLength + XChaCha20Poly1305.tagLength
    /// Associated data of a customer field: domain, vault id, entity, field, record id, key version, view, format.
    static let associatedDataLength = 72

    static func measure(vault: String) throws -> [String: Double] {
        var config = Configuration()
        config.readonly = true
        let queue = try DatabaseQueue(path: vault, configuration: config)
        // Each record's row packs its sealed values (PackedSealedEntries, issue #19).
        let (seals, values, sealedBytes, digests) = try queue.read { db -> (Int, Int, Int, Int) in
            var seals = 0, values = 0, bytes = 0
            for table in ["customers", "transactions", "interactions"] {
                let rows = try Row.fetchCursor(db, sql: "SELECT id, sealed FROM \(table) WHERE sealed IS NOT NULL")
                while let row = try rows.next() {
                    let id: Int64 = row[0], packed: Data = row[1]
                    for entry in try PackedSealedEntries.unpack([UInt8](packed), place: "\(table) \(id)") {
                        seals += entry.masked == nil ? 1 : 2
                        values += 1
                        bytes += entry.sealed.count + (entry.masked?.count ?? 0)
                    }
                }
            }
            let digests = try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM blind_indexes) + (SELECT count(*) FROM unique_indexes)") ?? 0
            return (seals, values, bytes, digests)
        }
        try queue.close()
        guard seals > 0 else { throw BenchError("\(vault) holds no sealed values; import customers first") }

        let key = try SecretBytes(randomCount: XChaCha20Poly1305.keyLength)
        let associatedData = [UInt8](repeating: 0x5A, count: associatedDataLength)
        let message = [UInt8](repeating: 0x61, count: max(16, sealedBytes / seals - envelopeOverhead))
        let searchForm = [UInt8](repeating: 0x62, count: 24)
        let start = now()
        for _ in 0..<seals {
            _ = try XChaCha20Poly1305.seal(message, key: key, associatedData: associatedData)
        }
        for _ in 0..<digests {
            _ = try BLAKE2b.hash(searchForm, key: key, outputLength: 32)
        }
        let sealMilliseconds = microseconds(since: start) / 1_000
        let sealed = try XChaCha20Poly1305.seal(message, key: key, associatedData: associatedData)
        let opening = now()
        for _ in 0..<values {
            _ = try XChaCha20Poly1305.open(sealed, key: key, associatedData: associatedData)
        }
        let openMilliseconds = microseconds(since: opening) / 1_000

        let passphrase = try SecretBytes(randomCount: 24)
        var kdf: [Double] = []
        for _ in 0..<3 {
            let begin = now()
            _ = try Argon2id.deriveKey(length: 32, passphrase: passphrase, salt: SecureRandom.bytes(Argon2id.saltLength),
                                       parameters: .interactive)
            kdf.append(microseconds(since: begin) / 1_000)
        }
        let signer = try Ed25519.KeyPair.generate()
        let entryHash = SecureRandom.bytes(32)
        var signatures: [Double] = []
        for _ in 0..<1_000 {
            let begin = now()
            _ = try Ed25519.sign(entryHash, with: signer)
            signatures.append(microseconds(since: begin))
        }
        return ["kdf_ms": percentile(kdf, 0.5), "sign_us": percentile(signatures, 0.5), "seal_ms_one_core": sealMilliseconds, "seals": Double(seals),
                "open_ms_one_core": openMilliseconds, "values": Double(values),
                "digests": Double(digests), "message_bytes": Double(message.count),
                "cores": Double(ProcessInfo.processInfo.activeProcessorCount)]
    }
}
