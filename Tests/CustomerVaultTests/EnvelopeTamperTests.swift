import Foundation
import Testing
@testable import CustomerVault
import VaultFileInspector

/// An attacker with write access to the file edits sealed values. Every edit must be an integrity
/// error on read, never a wrong value and never plaintext in the error.
@Suite("Sealed value tampering")
struct EnvelopeTamperTests {
    struct Slot: Hashable, CustomStringConvertible {
        var entity: String, recordID: Int64, field: String
        var description: String { "\(entity)/\(recordID)/\(field)" }
    }

    /// Which sealed value of the file a slot is.
    static func filter(_ slot: Slot) -> Filter {
        ["entity": .is(slot.entity), "record_id": .is(slot.recordID), "field": .is(slot.field)]
    }

    static func envelope(_ path: String, _ slot: Slot) throws -> (sealed: [UInt8], version: Int64) {
        let row = try #require(try VaultFileInspector(path).row("sealed_values", columns: ["sealed", "key_version"], where: filter(slot)))
        return (try #require(row["sealed"].bytes), try #require(row["key_version"].int))
    }

    static func store(_ path: String, _ slot: Slot, _ sealed: [UInt8], version: Int64) throws {
        try VaultFileInspector(path).update("sealed_values", set: ["sealed": sealed, "key_version": version], where: filter(slot))
    }

    /// Reads the slot's record through the library and returns the error, if any.
    static func read(_ vault: CustomerVault, _ slot: Slot) async -> VaultError? {
        await VaultError.caught {
            if slot.entity == "customers" {
                _ = try await vault.customer(slot.recordID)
            } else {
                let all = try await vault.history(.interactions, customerID: 1) + vault.history(.interactions, customerID: 2)
                _ = all
            }
        }
    }

    @Test("flipping each byte of an envelope and cutting it at every length is always detected")
    func flipsAndCuts() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let canary = "Zoë Ångström-Canary"
        let id = try await vault.addCustomer(["name": canary, "email": "zoe@example.com"])
        let path = directory.path("test.vault")
        let slot = Slot(entity: "customers", recordID: id, field: "name")
        let (original, version) = try Self.envelope(path, slot)

        var detected = 0, tried = 0
        for offset in original.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                var flipped = original
                flipped[offset] ^= mask
                try Self.store(path, slot, flipped, version: version)
                tried += 1
                let error = await Self.read(vault, slot)
                if error?.code == .integrity { detected += 1 } else { Issue.record("offset \(offset) mask \(mask): \(String(describing: error))") }
                #expect(error?.message.contains(canary) != true)
            }
        }
        for length in 0..<original.count {
            try Self.store(path, slot, Array(original.prefix(length)), version: version)
            tried += 1
            let error = await Self.read(vault, slot)
            if error?.code == .integrity { detected += 1 } else { Issue.record("cut at \(length): \(String(describing: error))") }
        }
        // The key-version column disagreeing with the envelope header is tampering too.
        try Self.store(path, slot, original, version: version + 1)
        tried += 1
        if await Self.read(vault, slot)?.code == .integrity { detected += 1 }
        #expect(detected == tried, "\(detected) of \(tried) tamperings detected")
        #expect(tried == original.count * 4 + 1)

        try Self.store(path, slot, original, version: version)
        #expect(try await vault.customer(id).fields["name"] == canary)
    }

    @Test("a masked view's envelope blanked, cut or swapped is an integrity error for the role that reads it")
    func maskedEnvelopes() async throws {
        let fixture = try await RoleFixture.make()
        let support = try await fixture.open("support", purpose: "support_ticket")
        #expect(try await support.customer(fixture.euID).fields["address"] == RoleFixture.canaryMasked["address"])
        let file = try VaultFileInspector(fixture.path)
        let address = { (id: Int64) -> Filter in ["entity": "customers", "record_id": .is(id), "field": "address"] }
        let original = try #require(try file.value("masked", in: "sealed_values", where: address(fixture.euID))?.bytes)
        let other = try #require(try file.value("masked", in: "sealed_values", where: address(fixture.ukID))?.bytes)
        for (label, replacement) in [("blanked", [UInt8]()), ("cut", Array(original.dropLast())), ("from another customer", other)] {
            try file.update("sealed_values", set: ["masked": replacement], where: address(fixture.euID))
            let error = await VaultError.caught { _ = try await support.customer(fixture.euID) }
            #expect(error?.code == .integrity, "\(label): \(String(describing: error))")
            #expect(RoleFixture.canaryFragments.allSatisfy { error?.message.contains($0) != true })
        }
    }

    @Test("a ciphertext moved to another row, field or table never opens")
    func moves() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        var ids: [Int64] = []
        for n in 1...3 { ids.append(try await vault.addCustomer(Fixtures.customer(n))) }
        for id in ids.prefix(2) {
            _ = try await vault.addHistory(.interactions, customerID: id,
                                           values: ["occurred_at": "2025-01-02T03:04:05Z", "channel": "email", "summary": "Called about order \(id)"])
        }
        let path = directory.path("test.vault")
        let slots: [Slot] = try VaultFileInspector(path).rows("sealed_values", columns: ["entity", "record_id", "field"]).map {
            Slot(entity: try #require($0["entity"].text), recordID: try #require($0["record_id"].int), field: try #require($0["field"].text))
        }
        // Six personal customer fields in Fixtures.customer, one personal interaction field.
        #expect(slots.count == 3 * 6 + 2)
        var moved = 0, detected = 0
        var kinds: Set<String> = []
        for source in slots {
            for target in slots where target != source {
                let kind = source.entity != target.entity ? "table" : source.field != target.field ? "field" : "row"
                // Keep the run short: every cross-table and same-field move, a sample of cross-field ones.
                if kind == "field" && (source.recordID + target.recordID) % 3 != 0 { continue }
                let (saved, savedVersion) = try Self.envelope(path, target)
                let (sealed, version) = try Self.envelope(path, source)
                try Self.store(path, target, sealed, version: version)
                moved += 1
                kinds.insert(kind)
                if await Self.read(vault, target)?.code == .integrity { detected += 1 } else { Issue.record("\(source) → \(target) opened") }
                try Self.store(path, target, saved, version: savedVersion)
            }
        }
        #expect(kinds == ["row", "field", "table"])
        #expect(detected == moved, "\(detected) of \(moved) moved ciphertexts detected")
        #expect(try await vault.customer(ids[0]).fields["email"] == "person1@example.com")
    }

    @Test("a ciphertext from another vault with the same layout never opens")
    func otherVault() async throws {
        let first = try TemporaryDirectory(), second = try TemporaryDirectory()
        let a = try await Fixtures.vault(in: first), b = try await Fixtures.vault(in: second)
        let idA = try await a.addCustomer(Fixtures.customer(1))
        let idB = try await b.addCustomer(Fixtures.customer(2))
        let slot = Slot(entity: "customers", recordID: idA, field: "email")
        let (sealed, version) = try Self.envelope(first.path("test.vault"), slot)
        try Self.store(second.path("test.vault"), Slot(entity: "customers", recordID: idB, field: "email"), sealed, version: version)
        let error = await VaultError.caught { _ = try await b.customer(idB) }
        #expect(error?.code == .integrity)
    }

    @Test("stored sizes reveal a value's length only to the nearest 16 bytes")
    func lengthsArePadded() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let short = try await vault.addCustomer(["name": "Al", "email": "a@example.com"])
        let long = try await vault.addCustomer(["name": "Bartholomew Ngo", "email": "b@example.com"])
        let longer = try await vault.addCustomer(["name": "Bartholomew Ngoma", "email": "c@example.com"])
        let sizes = try [short, long, longer].map {
            try Self.envelope(directory.path("test.vault"), Slot(entity: "customers", recordID: $0, field: "name")).sealed.count
        }
        #expect(sizes[0] == sizes[1], "2 and 15 bytes share a bucket")
        #expect(sizes[2] == sizes[1] + 16, "17 bytes takes the next bucket")
    }
}

@Suite("Record ids")
struct RecordIDTests {
    @Test("a deleted record's id is never given to a new record, so its old ciphertexts cannot open there")
    func idsAreNotReused() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        _ = try await vault.addCustomer(Fixtures.customer(1))
        let last = try await vault.addCustomer(Fixtures.customer(2))
        let path = directory.path("test.vault")
        let slot = EnvelopeTamperTests.Slot(entity: "customers", recordID: last, field: "email")
        let (old, version) = try EnvelopeTamperTests.envelope(path, slot)
        try await vault.deleteCustomer(last)
        let next = try await vault.addCustomer(Fixtures.customer(3))
        #expect(next > last)
        // An attacker re-inserts the deleted customer's envelope under the id it had: no row exists there,
        // and under the new customer's id it does not open.
        try EnvelopeTamperTests.store(path, EnvelopeTamperTests.Slot(entity: "customers", recordID: next, field: "email"), old, version: version)
        let error = await VaultError.caught { _ = try await vault.customer(next) }
        #expect(error?.code == .integrity)
    }
}
