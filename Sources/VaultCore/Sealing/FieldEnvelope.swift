package import VaultCrypto

/// Where a sealed value belongs. All of it is bound into the ciphertext as associated data,
/// so a ciphertext copied to another vault, table, field, record, key version or view fails to open.
package struct SealedSlot: Sendable, Hashable {
    package enum View: UInt8, Sendable { case plain = 0, masked = 1 }

    package var entity: Entity
    package var field: String
    package var recordID: Int64
    package var view: View

    package init(entity: Entity, field: String, recordID: Int64, view: View) {
        self.entity = entity
        self.field = field
        self.recordID = recordID
        self.view = view
    }
}

/// The stored form of one personal value.
///
/// Format 1, sealed under the field's key (all integers big-endian):
/// ```
/// offset 0   u8    format version (1)
/// offset 1   u32   key version
/// offset 5   24 B  XChaCha20-Poly1305 nonce (random)
/// offset 29  n B   ciphertext of the UTF-8 value padded (ISO/IEC 7816-4) to a multiple of 16 bytes
/// then       16 B  Poly1305 tag
/// ```
/// Format 2, written by a write-only principal under a write-session key, adds the session id
/// (i64) after the key version; the rest is the same.
/// Padding means a stored value shows its length only to the nearest 16 bytes.
/// Associated data: `"cvault.field.v1"`, vault id, entity, field, record id, key version, view,
/// format version, and for format 2 the session id (see ``ByteWriter`` for the encoding).
package enum FieldEnvelope {
    package static let formatVersion: UInt8 = 1
    package static let sessionFormatVersion: UInt8 = 2
    package static let paddingBlock = 16

    package static func headerLength(_ format: UInt8) -> Int { format == sessionFormatVersion ? 13 : 5 }
    package static func minimumLength(_ format: UInt8) -> Int {
        headerLength(format) + XChaCha20Poly1305.nonceLength + XChaCha20Poly1305.tagLength
    }

    static let domain = "cvault.field.v1"

    /// Runs `body` with the associated data of the envelope in `slot`, written on the stack.
    package static func withAssociatedData<R>(vaultID: [UInt8], slot: SealedSlot, keyVersion: UInt32, session: Int64?,
                                              _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let prefixLength = 16 + domain.utf8.count + vaultID.count + slot.entity.rawValue.utf8.count + slot.field.utf8.count
        return try withAssociatedData(prefixLength: prefixLength, writePrefix: { buffer in
            var offset = 0
            func put(_ bytes: some Collection<UInt8>) {
                buffer.storeBytes(of: UInt32(bytes.count).bigEndian, toByteOffset: offset, as: UInt32.self)
                offset += 4
                UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + bytes.count)]).copyBytes(from: bytes)
                offset += bytes.count
            }
            put(domain.utf8)
            put(vaultID)
            put(slot.entity.rawValue.utf8)
            put(slot.field.utf8)
        }, recordID: slot.recordID, keyVersion: keyVersion, view: slot.view, session: session, body)
    }

    /// The associated data's layout: a prefix `writePrefix` fills (domain, vault id, entity and
    /// field, each length-prefixed), then record id, key version, view and format version, and
    /// for format 2 the session id; all on the stack.
    static func withAssociatedData<R>(prefixLength: Int, writePrefix: (UnsafeMutableRawBufferPointer) -> Void, recordID: Int64, keyVersion: UInt32,
                                      view: SealedSlot.View, session: Int64?, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let count = prefixLength + 8 + 4 + 1 + 1 + (session == nil ? 0 : 8)
        return try withUnsafeTemporaryAllocation(byteCount: count, alignment: 1) { buffer in
            writePrefix(UnsafeMutableRawBufferPointer(rebasing: buffer[..<prefixLength]))
            var offset = prefixLength
            func put<T: FixedWidthInteger>(_ value: T) {
                buffer.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
                offset += MemoryLayout<T>.size
            }
            put(recordID)
            put(keyVersion)
            put(view.rawValue)
            if let session {
                put(sessionFormatVersion)
                put(session)
            } else {
                put(formatVersion)
            }
            return try body(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Seals a value; with `session`, under that write session's key (format 2).
    package static func seal(_ value: String, key: SecretBytes, keyVersion: UInt32, vaultID: [UInt8], slot: SealedSlot,
                     session: Int64? = nil) throws -> [UInt8] {
        try seal(value, key: key, keyVersion: keyVersion, context: EnvelopeContext(vaultID: vaultID, entity: slot.entity, field: slot.field, view: slot.view),
                 recordID: slot.recordID, session: session)
    }

    /// Seals a value into its slot of `context` for record `recordID` (the form used when many
    /// records are sealed: the context is worked out once per field and view).
    package static func seal(_ value: String, key: SecretBytes, keyVersion: UInt32, context: EnvelopeContext, recordID: Int64,
                             session: Int64? = nil) throws -> [UInt8] {
        var header: [UInt8] = [session == nil ? formatVersion : sessionFormatVersion]
        header.reserveCapacity(headerLength(sessionFormatVersion))
        withUnsafeBytes(of: keyVersion.bigEndian) { header += $0 }
        if let session { withUnsafeBytes(of: session.bigEndian) { header += $0 } }
        return try context.withAssociatedData(recordID: recordID, keyVersion: keyVersion, session: session) { associatedData in
            try XChaCha20Poly1305.sealPadded(value.utf8, paddingBlock: paddingBlock, prefix: header, key: key, associatedData: associatedData)
        }
    }

    private static func format(of envelope: [UInt8]) -> UInt8? {
        guard let format = envelope.first, format == formatVersion || format == sessionFormatVersion,
              envelope.count >= minimumLength(format) else { return nil }
        return format
    }

    /// The key version an envelope claims, or nil when the header is malformed.
    package static func keyVersion(of envelope: [UInt8]) -> UInt32? {
        guard format(of: envelope) != nil else { return nil }
        return envelope[1..<5].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The write session a format-2 envelope names; nil for format 1 or a malformed header.
    package static func session(of envelope: [UInt8]) -> Int64? {
        guard format(of: envelope) == sessionFormatVersion else { return nil }
        return Int64(bitPattern: envelope[5..<13].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// Opens an envelope. Every failure is an integrity error that names the slot, never the value.
    package static func open(_ envelope: [UInt8], key: SecretBytes, keyVersion: UInt32, vaultID: [UInt8], slot: SealedSlot) throws -> String {
        // Named only when something fails (formatting it for every value opened was a tenth of a rotation's opening).
        func place() -> String { "\(slot.entity.rawValue) \(slot.recordID) field \(slot.field)" }
        guard let format = format(of: envelope), self.keyVersion(of: envelope) == keyVersion else {
            throw VaultError.integrity("\(place()): sealed value is malformed")
        }
        let session = format == sessionFormatVersion ? self.session(of: envelope) : nil
        let text: String?
        do {
            text = try withAssociatedData(vaultID: vaultID, slot: slot, keyVersion: keyVersion, session: session) { associatedData in
                try XChaCha20Poly1305.openPaddedText(envelope[headerLength(format)...], paddingBlock: paddingBlock, key: key,
                                                     associatedData: associatedData)
            }
        } catch {
            throw VaultError.integrity("\(place()): sealed value failed authentication (tampered, moved or corrupt)")
        }
        guard let text else { throw VaultError.integrity("\(place()): sealed value is not text") }
        return text
    }
}

/// What the associated data of a field's envelopes share in every record: the domain, vault,
/// entity and field, encoded once (``FieldEnvelope`` documents the whole layout).
package struct EnvelopeContext: Sendable {
    package let view: SealedSlot.View
    /// `"cvault.field.v1"`, vault id, entity, field, each as ``ByteWriter`` writes them.
    private let prefix: [UInt8]

    package init(vaultID: [UInt8], entity: Entity, field: String, view: SealedSlot.View) {
        self.view = view
        var writer = ByteWriter(domain: FieldEnvelope.domain, capacity: 64 + vaultID.count + field.utf8.count)
        writer.append(vaultID)
        writer.append(entity.rawValue)
        writer.append(field)
        prefix = writer.bytes
    }

    /// Runs `body` with the associated data of one envelope: the prefix, then record id, key
    /// version, view and format version, and for format 2 the session id, written on the stack.
    package func withAssociatedData<R>(recordID: Int64, keyVersion: UInt32, session: Int64?,
                                       _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try FieldEnvelope.withAssociatedData(prefixLength: prefix.count, writePrefix: { buffer in prefix.withUnsafeBytes { buffer.copyMemory(from: $0) } },
                                             recordID: recordID, keyVersion: keyVersion, view: view, session: session, body)
    }
}
