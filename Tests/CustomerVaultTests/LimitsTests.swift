import Foundation
import Testing
import VaultCrypto
@testable import CustomerVault

/// Every documented size limit (SECURITY.md §11) holds exactly: accepted at the limit, refused one
/// unit over it with an error that names what is too large, never the value.
@Suite("Size limits at and just over")
struct LimitsTests {
    // MARK: Field length

    @Test("a personal value of exactly max_length characters is stored; one more is refused naming the field",
          arguments: [("name", 200), ("address", 500), ("gender", 50)])
    func fieldLength(field: String, limit: Int) async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        // Characters, not bytes: "é" is two bytes in UTF-8.
        let atLimit = "é" + String(repeating: "x", count: limit - 1)
        var values = Fixtures.customer(1)
        values[field] = atLimit
        let id = try await vault.addCustomer(values)
        #expect(try await vault.customer(id).fields[field] == atLimit)

        values = Fixtures.customer(2)
        values[field] = atLimit + "y"
        let error = await VaultError.caught { _ = try await vault.addCustomer(values) }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains(field) == true && error?.message.contains("longer than \(limit)") == true)
        #expect(error?.message.contains("xxxxxxxx") == false, "the error never repeats the value")
        #expect(try await vault.customerCount() == 1)
    }

    @Test("interaction free text: 10,000 characters stored, 10,001 refused")
    func freeTextLength() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let customer = try await vault.addCustomer(Fixtures.customer(1))
        let text = String(repeating: "word ", count: 2_000).dropLast() + "."
        #expect(text.count == 10_000)
        let id = try await vault.addHistory(.interactions, customerID: customer,
                                            values: ["occurred_at": "2026-01-02T03:04:05Z", "channel": "email", "summary": String(text)])
        #expect(try await vault.history(.interactions, customerID: customer).first { $0.id == id }?.fields["summary"] == String(text))
        let error = await VaultError.caught {
            _ = try await vault.addHistory(.interactions, customerID: customer,
                                           values: ["occurred_at": "2026-01-02T03:04:05Z", "channel": "email", "summary": text + "!"])
        }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains("summary") == true)
    }

    @Test("a schema may set max_length up to 65,536, not 65,537")
    func schemaMaxLength() throws {
        func schema(_ length: Int) -> String {
            Schema.defaultYAML.replacingOccurrences(of: "gender:     { class: personal, type: text,  max_length: 50 }",
                                                    with: "gender:     { class: personal, type: text,  max_length: \(length) }")
        }
        #expect(schema(1) != Schema.defaultYAML, "the schema line to change exists")
        let loaded = try Schema.load(yaml: schema(Schema.absoluteMaximumLength))
        #expect(loaded.fields(of: .customers).first { $0.name == "gender" }?.maxLength == Schema.absoluteMaximumLength)
        #expect(throws: VaultError.self) { try Schema.load(yaml: schema(Schema.absoluteMaximumLength + 1)) }
        do {
            _ = try Schema.load(yaml: schema(Schema.absoluteMaximumLength + 1), fileName: "s.yaml")
        } catch let error as VaultError {
            #expect(error.message.hasPrefix("s.yaml:"), "names the file and line: \(error.message)")
            #expect(error.message.contains("max_length must be between 1 and 65536"))
        }
    }

    // MARK: CSV records

    /// A customers file whose second record is `bytes` long (line end excluded) and is a valid
    /// customer once whitespace is folded, followed by an ordinary valid record.
    static func csv(recordBytes bytes: Int, tag: String) -> String {
        let prefix = "Long Address,long-\(tag)@example.com,\"1 High"
        let suffix = " Street\""
        let record = prefix + String(repeating: " ", count: bytes - prefix.utf8.count - suffix.utf8.count) + suffix
        precondition(record.utf8.count == bytes)
        return "name,email,address\n" + record + "\nNext Person,next-\(tag)@example.com,2 Low Street\n"
    }

    @Test("an import accepts a record of exactly 1 MiB and refuses one of 1 MiB + 1 byte by line, keeping the rows after it")
    func csvRecordLength() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let limit = CSVReader.defaultMaximumRecordBytes
        #expect(limit == 1 << 20)

        let atLimit = try directory.write("at.csv", Self.csv(recordBytes: limit, tag: "at"))
        let accepted = try await vault.importCSV(.customers, from: atLimit)
        #expect(accepted.accepted == 2 && accepted.rejected == 0)
        #expect(try await vault.findCustomers(field: "email", equalTo: "long-at@example.com").first?.fields["address"] == "1 High Street")

        let over = try directory.write("over.csv", Self.csv(recordBytes: limit + 1, tag: "over"))
        let report = try await vault.importCSV(.customers, from: over)
        #expect(report.accepted == 1 && report.rejected == 1)
        #expect(report.rejects.first?.record == 2 && report.rejects.first?.line == 2)
        #expect(report.rejects.first?.problems.first?.reason.contains("longer than \(limit) bytes") == true, "\(report.rejects.first?.problems ?? [])")
        #expect(try await vault.findCustomers(field: "email", equalTo: "next-over@example.com").count == 1)
        #expect(try await vault.findCustomers(field: "email", equalTo: "long-over@example.com").isEmpty)
    }

    @Test("a record of 1,024 fields is read (and refused for its count); 1,025 is refused as too many fields")
    func csvFieldCount() throws {
        let limit = CSVReader.defaultMaximumFields
        let atLimit = CSVReader(data: Data((String(repeating: "a,", count: limit - 1) + "a\n").utf8))
        #expect(try atLimit.next()?.fields.count == limit)
        let over = CSVReader(data: Data((String(repeating: "a,", count: limit) + "a\n").utf8))
        #expect(throws: CSVError(kind: .tooManyFields, line: 1, recordNumber: 1)) { try over.next() }
    }

    // MARK: Policy and schema files

    /// The default text padded with a comment to exactly `bytes` bytes.
    static func padded(_ text: String, to bytes: Int) -> String {
        let comment = "\n# " + String(repeating: "p", count: bytes - text.utf8.count - 4) + "\n"
        let result = text + comment
        precondition(result.utf8.count == bytes)
        return result
    }

    @Test("policy and schema files: exactly 1 MiB loads, 1 MiB + 1 byte is refused naming the file, /dev/zero is refused unread")
    func yamlFileSize() throws {
        let directory = try TemporaryDirectory()
        let limit = YAMLReader.maximumBytes
        #expect(limit == 1 << 20)
        let schema = try Schema.shippedDefault()

        let policyAt = try directory.write("policy-at.yaml", Self.padded(Policy.defaultYAML, to: limit))
        #expect(try Policy.load(fileAt: policyAt, schema: schema).roles.count == (try Policy.shippedDefault(schema: schema)).roles.count)
        let schemaAt = try directory.write("schema-at.yaml", Self.padded(Schema.defaultYAML, to: limit))
        #expect(try Schema.load(fileAt: schemaAt).fields(of: .customers) == schema.fields(of: .customers))

        let policyOver = try directory.write("policy-over.yaml", Self.padded(Policy.defaultYAML, to: limit + 1))
        let schemaOver = try directory.write("schema-over.yaml", Self.padded(Schema.defaultYAML, to: limit + 1))
        for (file, load) in [(policyOver, { _ = try Policy.load(fileAt: policyOver, schema: schema) }),
                             (schemaOver, { _ = try Schema.load(fileAt: schemaOver) }),
                             ("/dev/zero", { _ = try Policy.load(fileAt: "/dev/zero", schema: schema) }),
                             ("/dev/zero", { _ = try Schema.load(fileAt: "/dev/zero") })] as [(String, () throws -> Void)] {
            do {
                try load()
                Issue.record("\(file) was accepted")
            } catch let error as VaultError {
                #expect(error.code == .invalidInput)
                #expect(error.message == "\(file):1: the file is larger than \(limit) bytes")
            }
        }
    }

    // MARK: Backup header and chunks

    static let backupKey = try! BackupKey(vaultID: [UInt8](repeating: 3, count: 16), version: 1,
                                          key: SecretBytes(copying: [UInt8](repeating: 9, count: 32)))

    static func backup(_ directory: TemporaryDirectory, snapshotBytes: Int, chunkSize: Int) throws -> String {
        let snapshot = try directory.write("snapshot-\(chunkSize)", String(repeating: "s", count: snapshotBytes))
        let output = directory.path("b-\(chunkSize).cvbackup")
        let recipient = BackupRecipient(vaultID: backupKey.vaultID, version: 1, publicKey: backupKey.pair.publicKey)
        _ = try BackupStream.write(snapshot: snapshot, to: output, recipient: recipient, createdAt: Date(), chunkSize: chunkSize, progress: nil)
        return output
    }

    @Test("a backup header's body is exactly 160 bytes (204 with prefix and checksum): 160 reads, 161 is refused before anything else")
    func backupHeaderLength() throws {
        let directory = try TemporaryDirectory()
        let file = try Self.backup(directory, snapshotBytes: 100, chunkSize: 64)
        #expect(BackupFormat.bodyLength == 160 && BackupFormat.headerLength == 204, "SECURITY.md §4b documents these sizes")
        #expect(try BackupStream.read(file, key: Self.backupKey, sink: nil, progress: nil).chunks == 2)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[11] += 1
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        #expect(throws: VaultError.integrity("b-64.cvbackup: the backup header length is 161, format 1 has 160 (header modified)")) {
            try BackupStream.read(file, key: Self.backupKey, sink: nil, progress: nil)
        }
    }

    @Test("backup chunks: the largest allowed chunk (16 MiB sealed) writes and reads; one byte more is refused by writer and reader")
    func backupChunkSize() async throws {
        let directory = try TemporaryDirectory()
        let largest = BackupFormat.maximumChunkSize - SecretStream.chunkOverhead
        let file = try Self.backup(directory, snapshotBytes: largest + 10, chunkSize: largest)
        #expect(try BackupStream.read(file, key: Self.backupKey, sink: nil, progress: nil).chunks == 2)
        #expect(throws: VaultError.invalidInput("backup chunk size \(largest + 1) is out of range")) {
            _ = try Self.backup(directory, snapshotBytes: 10, chunkSize: largest + 1)
        }
        // A forged header announcing larger chunks (checksum recomputed) is refused by the reader.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let chunkSizeOffset = BackupFormat.prefixLength + 16 + 8 + 4 + 16
        withUnsafeBytes(of: UInt32(largest + 1).bigEndian) { bytes.replaceSubrange(chunkSizeOffset..<chunkSizeOffset + 4, with: $0) }
        let covered = Array(bytes[0..<(BackupFormat.prefixLength + BackupFormat.bodyLength)])
        bytes.replaceSubrange((BackupFormat.prefixLength + BackupFormat.bodyLength)..<BackupFormat.headerLength,
                              with: try BLAKE2b.hash(covered, outputLength: BackupFormat.checksumLength))
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let error = await VaultError.caught { _ = try BackupStream.read(file, key: Self.backupKey, sink: nil, progress: nil) }
        #expect(error?.code == .integrity)
        #expect(error?.message.contains("impossible chunk size \(largest + 1)") == true)
    }

    // MARK: Credentials

    @Test("a passphrase of 1,024 bytes is accepted, 1,025 refused; passphrase files alike")
    func passphraseLength() throws {
        let limit = Credential.maximumPassphraseBytes
        #expect(limit == 1_024)
        _ = try Credential.passphrase(String(repeating: "ü", count: limit / 2))
        #expect(throws: VaultError.invalidInput("passphrase is longer than \(limit) bytes")) {
            _ = try Credential.passphrase(String(repeating: "ü", count: limit / 2) + "x")
        }
        let directory = try TemporaryDirectory()
        _ = try Credential.passphrase(fileAt: try directory.write("at", String(repeating: "p", count: limit) + "\n"))
        let over = try directory.write("over", String(repeating: "p", count: limit + 1) + "\n")
        #expect(throws: VaultError.self) { _ = try Credential.passphrase(fileAt: over) }
    }
}
