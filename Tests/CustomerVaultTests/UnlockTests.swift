import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault
import VaultFileInspector

@Suite("Unlocking and key grants")
struct UnlockTests {
    @Test("the right passphrase unlocks; a wrong one is a bad credential, not corruption")
    func passphrases() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let id = try await vault.addCustomer(Fixtures.customer(1))
        try vault.close()

        let reopened = try await CustomerVault.open(at: directory.path("test.vault"), principal: "admin", credential: Fixtures.credential())
        #expect(try await reopened.customer(id).fields["email"] == "person1@example.com")
        try reopened.close()

        for wrong in ["correct horse battery stapler", "Correct horse battery staple", "x"] {
            let error = await VaultError.caught {
                _ = try await CustomerVault.open(at: directory.path("test.vault"), principal: "admin", credential: .passphrase(wrong))
            }
            #expect(error?.code == .badCredential)
            #expect(error?.message.contains(wrong) == false)
        }
        let keyFileError = await VaultError.caught {
            _ = try await CustomerVault.open(at: directory.path("test.vault"), principal: "admin", credential: .keyFile(SecretBytes(randomCount: 32)))
        }
        #expect(keyFileError?.code == .badCredential)
    }

    @Test("a new vault file and its WAL are mode 0600 whatever the umask")
    func fileModes() async throws {
        let directory = try TemporaryDirectory()
        let previous = umask(0o022)
        defer { umask(previous) }
        let vault = try await Fixtures.vault(in: directory)
        _ = try await vault.addCustomer(Fixtures.customer(1))
        for file in [directory.path("test.vault"), directory.path("test.vault-wal")] {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            #expect(mode == 0o600, "\((file as NSString).lastPathComponent) has mode \(String(mode, radix: 8))")
        }
        try vault.close()
    }

    @Test("a key-file principal unlocks with its key file only")
    func keyFiles() async throws {
        let directory = try TemporaryDirectory()
        let key = SecureRandom.bytes(32)
        try Data(Hex.encode(key).utf8 + [0x0A]).write(to: URL(fileURLWithPath: directory.path("admin.key")))
        let credential = try Credential.keyFile(at: directory.path("admin.key"))
        let vault = try await CustomerVault.create(at: directory.path("k.vault"), schema: Fixtures.schema(), administrator: "robot", credential: credential)
        try vault.close()
        try Data(key).write(to: URL(fileURLWithPath: directory.path("raw.key")))
        let reopened = try await CustomerVault.open(at: directory.path("k.vault"), principal: "robot",
                                                    credential: Credential.keyFile(at: directory.path("raw.key")))
        try reopened.close()
        let error = await VaultError.caught {
            _ = try await CustomerVault.open(at: directory.path("k.vault"), principal: "robot", credential: Fixtures.credential())
        }
        #expect(error?.code == .badCredential)
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: directory.path("bad.key")))
        #expect(throws: VaultError(.invalidInput, "")) { try Credential.keyFile(at: directory.path("bad.key")) }
        #expect(throws: VaultError(.invalidInput, "")) { try Credential.keyFile(at: directory.path("missing.key")) }
    }

    @Test("malformed passphrase files are refused", arguments: [
        [UInt8](), [0x0A], [0x61, 0x0A, 0x62], [0xFF, 0xFE], [UInt8](repeating: 0x61, count: 2_000),
    ])
    func malformedPassphrases(bytes: [UInt8]) {
        #expect(throws: VaultError(.invalidInput, "")) { try Credential.passphrase(bytes: bytes, source: "file") }
    }

    @Test("tampering with a principal's stored secrets is an integrity failure, not a wrong passphrase",
          arguments: ["wrapped_secrets", "credential_check", "box_public_key"])
    func tamperedPrincipal(column: String) async throws {
        let directory = try TemporaryDirectory()
        try await Fixtures.vault(in: directory).close()
        let file = try VaultFileInspector(directory.path("test.vault"))
        var bytes = try #require(try file.value(column, in: "principals", where: ["name": "admin"])?.bytes)
        bytes[bytes.count / 2] ^= 0x40
        #expect(try file.update("principals", set: [column: bytes], where: ["name": "admin"]) == 1)
        try file.close()
        let error = await VaultError.caught {
            _ = try await CustomerVault.open(at: directory.path("test.vault"), principal: "admin", credential: Fixtures.credential())
        }
        #expect(error?.code == .integrity)
    }

    @Test("Argon2id parameters outside the accepted range in the file are refused before any work")
    func cappedParameters() async throws {
        let directory = try TemporaryDirectory()
        try await Fixtures.vault(in: directory).close()
        for (ops, mem) in [(1, 64 << 20), (2, 1 << 20), (1_000, 64 << 20), (2, 1 << 40)] {
            try VaultFileInspector(directory.path("test.vault")).update("principals", set: ["kdf_ops": ops, "kdf_mem": mem], where: [:])
            let error = await VaultError.caught {
                _ = try await CustomerVault.open(at: directory.path("test.vault"), principal: "admin", credential: Fixtures.credential())
            }
            #expect(error?.code == .integrity, "ops \(ops) mem \(mem)")
        }
    }

    @Test("a key planted in the grants table by someone with write access is refused")
    func plantedKey() async throws {
        let directory = try TemporaryDirectory()
        try await Fixtures.vault(in: directory).close()
        // The attacker knows the admin's public key (it is in the file) and seals a key of their own to it.
        let file = try VaultFileInspector(directory.path("test.vault"))
        let publicKey = try #require(try file.value("box_public_key", in: "principals", where: ["name": "admin"])?.bytes)
        let planted = try SealedBox.seal([UInt8](repeating: 7, count: 32), to: publicKey)
        let key = try #require(try file.value("id", in: "data_keys", where: ["field": "customers.email", "purpose": "seal"]))
        #expect(try file.update("key_grants", set: ["sealed_key": planted], where: ["key_id": .is(key)]) > 0)
        try file.close()
        let error = await VaultError.caught {
            _ = try await CustomerVault.open(at: directory.path("test.vault"), principal: "admin", credential: Fixtures.credential())
        }
        #expect(error?.code == .integrity)
        #expect(error?.message.contains("signature") == true)
    }

    @Test("a missing vault, an unknown principal and an existing file are clear errors")
    func missingThings() async throws {
        let directory = try TemporaryDirectory()
        let missing = await VaultError.caught {
            _ = try await CustomerVault.open(at: directory.path("nope.vault"), principal: "admin", credential: Fixtures.credential())
        }
        #expect(missing?.code == .notFound)
        try await Fixtures.vault(in: directory).close()
        let unknown = await VaultError.caught {
            _ = try await CustomerVault.open(at: directory.path("test.vault"), principal: "mallory", credential: Fixtures.credential())
        }
        #expect(unknown?.code == .notFound)
        let exists = await VaultError.caught { _ = try await Fixtures.vault(in: directory) }
        #expect(exists?.code == .conflict)
        try directory.write("junk.vault", "this is not a database at all, just text that is long enough")
        let junk = await VaultError.caught {
            _ = try await CustomerVault.open(at: directory.path("junk.vault"), principal: "admin", credential: Fixtures.credential())
        }
        #expect(junk?.code == .invalidInput && junk?.message.contains("is not a vault (not an SQLite database)") == true, "\(junk?.message ?? "")")
        // An SQLite database that is not a vault is not one either, and is left as it was.
        let foreign = directory.path("foreign.db")
        try VaultFileInspector.createForeignDatabase(at: foreign)
        let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
        let notVault = await VaultError.caught { _ = try await CustomerVault.open(at: foreign, principal: "admin", credential: Fixtures.credential()) }
        #expect(notVault?.code == .invalidInput && notVault?.message.contains("without a vault's tables") == true, "\(notVault?.message ?? "")")
        #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == before)
        let folder = await VaultError.caught { _ = try await CustomerVault.open(at: directory.path(""), principal: "admin", credential: Fixtures.credential()) }
        #expect(folder?.code == .invalidInput && folder?.message.contains("is a directory") == true)
    }
}

@Suite("Storage settings")
struct StorageSettingsTests {
    @Test("the writer commits with synchronous = FULL and secure_delete on, for new and reopened vaults")
    func durability() async throws {
        let directory = try TemporaryDirectory()
        let created = try await Fixtures.vault(in: directory)
        for vault in [created, try await CustomerVault.open(at: directory.path("test.vault"), principal: "admin", credential: Fixtures.credential())] {
            let (synchronous, secureDelete, journal) = try vault.liveFile.writerSettings()
            #expect(synchronous == 2, "FULL is 2; GRDB's pool default would be NORMAL (1)")
            #expect(secureDelete == 1)
            #expect(journal == "wal")
        }
    }
}
