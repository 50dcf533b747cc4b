import Foundation
import Testing
@testable import CustomerVault
import VaultCore
import VaultCrypto
import VaultTestSupport

/// The batch sealing path (a plan per entity, associated data built from a per-field prefix, the
/// masks on bytes) must produce exactly what the per-value definitions produce.
@Suite("Sealing plans and byte-level masks")
struct SealPlanTests {
    /// The associated data as `FieldEnvelope` documents it, written out independently.
    static func documentedAssociatedData(vaultID: [UInt8], slot: SealedSlot, keyVersion: UInt32, session: Int64?) -> [UInt8] {
        var writer = ByteWriter(domain: "cvault.field.v1")
        writer.append(vaultID)
        writer.append(slot.entity.rawValue)
        writer.append(slot.field)
        writer.append(slot.recordID)
        writer.append(keyVersion)
        writer.append(slot.view.rawValue)
        if let session {
            writer.append(UInt8(2))
            writer.append(session)
        } else {
            writer.append(UInt8(1))
        }
        return writer.bytes
    }

    @Test("associated data from a field's context equals the documented layout, for both formats and views")
    func associatedDataLayout() throws {
        let vaultID = (0..<16).map { UInt8($0 * 7 % 256) }
        var cases = 0
        for entity in Entity.allCases {
            for field in ["email", "name", "ü-field"] {
                for view in [SealedSlot.View.plain, .masked] {
                    for (recordID, keyVersion, session) in [(Int64(1), UInt32(1), Int64?.none), (Int64.max, UInt32.max, Int64(-5)), (42, 3, 9)] {
                        let slot = SealedSlot(entity: entity, field: field, recordID: recordID, view: view)
                        let context = EnvelopeContext(vaultID: vaultID, entity: entity, field: field, view: view)
                        let built = context.withAssociatedData(recordID: recordID, keyVersion: keyVersion, session: session) { Array($0) }
                        #expect(built == Self.documentedAssociatedData(vaultID: vaultID, slot: slot, keyVersion: keyVersion, session: session))
                        #expect(FieldEnvelope.withAssociatedData(vaultID: vaultID, slot: slot, keyVersion: keyVersion, session: session) { Array($0) } == built)
                        cases += 1
                    }
                }
            }
        }
        #expect(cases == Entity.allCases.count * 3 * 2 * 3)
    }

    @Test("an envelope sealed through a context opens under its slot and under no other")
    func contextSealOpens() throws {
        let key = try SecretBytes(randomCount: XChaCha20Poly1305.keyLength)
        let vaultID = Array(repeating: UInt8(9), count: 16)
        let context = EnvelopeContext(vaultID: vaultID, entity: .customers, field: "email", view: .plain)
        let sealed = try FieldEnvelope.seal("ada@example.com", key: key, keyVersion: 2, context: context, recordID: 17)
        let slot = SealedSlot(entity: .customers, field: "email", recordID: 17, view: .plain)
        #expect(try FieldEnvelope.open(sealed, key: key, keyVersion: 2, vaultID: vaultID, slot: slot) == "ada@example.com")
        for other in [SealedSlot(entity: .customers, field: "email", recordID: 18, view: .plain),
                      SealedSlot(entity: .customers, field: "name", recordID: 17, view: .plain),
                      SealedSlot(entity: .customers, field: "email", recordID: 17, view: .masked)] {
            #expect(throws: VaultError.self) { try FieldEnvelope.open(sealed, key: key, keyVersion: 2, vaultID: vaultID, slot: other) }
        }
        let session = try FieldEnvelope.seal("ada@example.com", key: key, keyVersion: 2, context: context, recordID: 17, session: 5)
        #expect(FieldEnvelope.session(of: session) == 5)
        #expect(try FieldEnvelope.open(session, key: key, keyVersion: 2, vaultID: vaultID, slot: slot) == "ada@example.com")
    }

    @Test("the byte-level masks give what the character-level masks give, and step aside for other text")
    func byteMasksMatchCharacterMasks() {
        let masks: [FieldSchema.Mask] = [.email, .last4, .initial, .prefix(0), .prefix(1), .prefix(3), .prefix(40)]
        var values = ["ada@example.com", "a@b", "@example.com", "no-at-sign", "", " ", "+44 20 7946 0958", "0044-(20)-7946.0958", "12",
                      "Ada Lovelace", "  Ada   King  Lovelace ", "x", "1 Example Street\nLondon", "tab\there", "a@b@c"]
        // Random ASCII text, spaces, digits and @ dense, with a fixed seed.
        var generator = SeededGenerator(state: 19)
        let alphabet = Array(" @ 0123456789abcXYZ.-+()\n\t~".utf8)
        for _ in 0..<2_000 {
            let length = Int(generator.next() % 24)
            values.append(String(decoding: (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }, as: UTF8.self))
        }
        var compared = 0
        for value in values {
            for mask in masks {
                let fast = Masking.asciiMask(value, as: mask)
                #expect(fast != nil, "ASCII without CR takes the byte path")
                #expect(fast == Masking.maskByCharacters(value, as: mask), "mask \(mask) of a value of \(value.utf8.count) bytes")
                compared += 1
            }
        }
        #expect(compared == values.count * masks.count)
        for other in ["Zoë Ångström", "line\r\nbreak", "e\u{301}@example.com", "١٢٣٤٥"] {
            for mask in masks {
                #expect(Masking.asciiMask(other, as: mask) == nil)
                #expect(Masking.mask(other, as: mask) == Masking.maskByCharacters(other, as: mask))
            }
        }
    }
}
