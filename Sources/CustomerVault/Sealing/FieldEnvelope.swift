import VaultCrypto

/// Where a sealed value belongs. All of it is bound into the ciphertext as associated data,
/// so a ciphertext copied to another vault, table, field, record, key version or view fails to open.
struct SealedSlot: Sendable, Hashable {
    enum View: UInt8, Sendable { case plain = 0, masked = 1 }

    var entity: Entity
    var field: String
    var recordID: Int64
    var view: View
}

/// The stored form of one personal value.
///
/// Layout (all integers big-endian):
/// ```
/// offset 0   u8    format version (1)
/// offset 1   u32   key version
/// offset 5   24 B  XChaCha20-Poly1305 nonce (random)
/// offset 29  n B   ciphertext of the UTF-8 value padded (ISO/IEC 7816-4) to a multiple of 16 bytes
/// then       16 B  Poly1305 tag
/// ```
/// Padding means a stored value shows its length only to the nearest 16 bytes.
/// Associated data: `"cvault.field.v1"`, vault id, entity, field, record id, key version, view,
/// format version (see ``ByteWriter`` for the encoding).
enum FieldEnvelope {
    static let formatVersion: UInt8 = 1
    static let headerLength = 5
    static let minimumLength = headerLength + XChaCha20Poly1305.nonceLength + XChaCha20Poly1305.tagLength
    static let paddingBlock = 16

    static func associatedData(vaultID: [UInt8], slot: SealedSlot, keyVersion: UInt32) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.field.v1")
        writer.append(vaultID)
        writer.append(slot.entity.rawValue)
        writer.append(slot.field)
        writer.append(slot.recordID)
        writer.append(keyVersion)
        writer.append(slot.view.rawValue)
        writer.append(formatVersion)
        return writer.bytes
    }

    static func seal(_ value: String, key: SecretBytes, keyVersion: UInt32, vaultID: [UInt8], slot: SealedSlot) throws -> [UInt8] {
        var header: [UInt8] = [formatVersion]
        withUnsafeBytes(of: keyVersion.bigEndian) { header += $0 }
        var plaintext = Array(value.utf8)
        defer { wipe(&plaintext) }
        try Padding.pad(&plaintext, blockSize: paddingBlock)
        let sealed = try XChaCha20Poly1305.seal(
            plaintext, key: key,
            associatedData: associatedData(vaultID: vaultID, slot: slot, keyVersion: keyVersion))
        return header + sealed
    }

    /// The key version an envelope claims, or nil when the header is malformed.
    static func keyVersion(of envelope: [UInt8]) -> UInt32? {
        guard envelope.count >= minimumLength, envelope[0] == formatVersion else { return nil }
        return envelope[1..<5].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Opens an envelope. Every failure is an integrity error that names the slot, never the value.
    static func open(_ envelope: [UInt8], key: SecretBytes, keyVersion: UInt32, vaultID: [UInt8], slot: SealedSlot) throws -> String {
        guard self.keyVersion(of: envelope) == keyVersion else {
            throw VaultError.integrity("\(slot.entity.rawValue) \(slot.recordID) field \(slot.field): sealed value is malformed")
        }
        do {
            var plaintext = try XChaCha20Poly1305.open(
                envelope[headerLength...], key: key,
                associatedData: associatedData(vaultID: vaultID, slot: slot, keyVersion: keyVersion))
            defer { wipe(&plaintext) }
            try Padding.unpad(&plaintext, blockSize: paddingBlock)
            guard let text = String(validating: plaintext, as: UTF8.self) else {
                throw VaultError.integrity("\(slot.entity.rawValue) \(slot.recordID) field \(slot.field): sealed value is not text")
            }
            return text
        } catch let error as VaultError {
            throw error
        } catch {
            throw VaultError.integrity("\(slot.entity.rawValue) \(slot.recordID) field \(slot.field): sealed value failed authentication (tampered, moved or corrupt)")
        }
    }
}
