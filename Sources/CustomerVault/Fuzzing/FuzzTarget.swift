import Foundation
import VaultCrypto
import VaultCore

/// The parsers that take hostile input, each as one entry point for libFuzzer (`cvault-fuzz`,
/// `scripts/fuzz`) and for the test that replays the committed corpus (`FuzzReplayTests`).
///
/// An input may be refused with an error; it may not crash, hang, or break the invariant each
/// target checks (a violated invariant is a `preconditionFailure`, which libFuzzer reports).
@_spi(Fuzzing)
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The CSV reader and the import's header and row mapping, then field validation.
    case csv
    /// The policy loader over the shipped schema.
    case policy
    /// The schema loader.
    case schema
    /// The field envelope decoder: open, padding, plain-attribute JSON; seal/open round trips.
    case envelope
    /// The backup reader: header, chunk framing, authentication (with a fixed test key).
    case backup

    /// The largest input worth trying; longer inputs only slow the fuzzer down.
    public var maximumInputBytes: Int {
        switch self {
        case .csv, .policy, .schema: 16_384
        case .envelope: 1_024
        case .backup: 65_536
        }
    }

    /// Runs one input and tells whether it was accepted (a refusal is a normal outcome; seeds
    /// are accepted, which shows the target reaches past its first check).
    @discardableResult
    public func run(_ input: [UInt8]) -> Bool {
        switch self {
        case .csv: FuzzCSV.run(input)
        case .policy: FuzzYAML.policy(input)
        case .schema: FuzzYAML.schema(input)
        case .envelope: FuzzEnvelope.run(input)
        case .backup: FuzzBackup.run(input)
        }
    }

    /// Valid inputs to start a corpus from (name, bytes); the committed corpus holds them.
    public func seeds() throws -> [(String, [UInt8])] {
        switch self {
        case .csv: FuzzCSV.seeds
        case .policy: [("default.yaml", Array(Policy.defaultYAML.utf8))]
        case .schema: [("default.yaml", Array(Schema.defaultYAML.utf8))]
        case .envelope: try FuzzEnvelope.seeds()
        case .backup: try FuzzBackup.seeds()
        }
    }
}

/// Fails the fuzz run with a message that holds no input bytes.
private func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz invariant broken: \(message())") }
}

private enum Fixtures {
    static let schema: Schema = {
        do { return try Schema.shippedDefault() } catch { preconditionFailure("the shipped schema does not load") }
    }()
    static let vaultID = [UInt8](repeating: 0xA5, count: 16)
    static let fieldKey = SecretBytes(copying: [UInt8](repeating: 0x42, count: 32))
    static let backupKey: BackupKey = {
        do {
            return try BackupKey(vaultID: vaultID, version: 1, key: SecretBytes(copying: [UInt8](repeating: 0x5B, count: 32)))
        } catch { preconditionFailure("no backup key") }
    }()
    /// A scratch file name of its own for each call (the backup reader reads files, and the
    /// replay tests run targets in parallel).
    static func scratch() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cvault-fuzz-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
    }
}

private enum FuzzCSV {
    static func run(_ input: [UInt8]) -> Bool {
        guard let selector = input.first else { return false }
        var validRows = 0
        let entity = Entity.allCases[Int(selector) % Entity.allCases.count]
        let reader = CSVReader(data: Data(input.dropFirst()), maximumRecordBytes: 4_096, maximumFields: 64)
        let validator = FieldValidator(schema: Fixtures.schema, now: Date(timeIntervalSince1970: 1_790_000_000))
        var columns: ImportColumns?
        var lastRecord = 0
        while true {
            do {
                guard let record = try reader.next() else { break }
                require(record.recordNumber == lastRecord + 1, "record numbers skip")
                require(record.fields.count <= 64, "more fields than the limit")
                lastRecord = record.recordNumber
                guard let columns else {
                    guard let header = try? ImportColumns(header: record, entity: entity, schema: Fixtures.schema, file: "fuzz.csv") else { return false }
                    columns = header
                    continue
                }
                if case .valid(let values, _) = columns.row(record).outcome {
                    if let canonical = try? validator.validateRecord(values, entity: entity) {
                        validRows += 1
                        // A canonical record is a fixed point: validating it again changes nothing.
                        require((try? validator.validateRecord(canonical, entity: entity)) == canonical, "canonical form is not stable")
                    }
                }
            } catch {
                // The end of input inside quotes may be reported for the record just refused.
                let expected = error.kind == .unterminatedQuote ? lastRecord...(lastRecord + 1) : (lastRecord + 1)...(lastRecord + 1)
                require(expected.contains(error.recordNumber), "an error names record \(error.recordNumber) after \(lastRecord)")
                lastRecord = error.recordNumber
                if error.kind == .unterminatedQuote || error.kind == .ioFailure { break }
            }
            require(reader.bytesRead <= input.count, "read more bytes than given")
        }
        return validRows > 0
    }

    static let seeds: [(String, [UInt8])] = [
        ("customers.csv", Array(("\u{0}" + """
            name,email,phone,address,age,birth_date,gender,region,marketing_consent
            Ada Lovelace,ada@example.com,+44 20 7946 0000,12 St James's Square,36,1815-12-10,female,UK,true
            "Quoted, Name","bob@example.org","+1 (555) 010-0199","Line 1
            Line 2",56,1970-01-01,,EU,false

            """).utf8)),
        ("transactions.csv", Array(("\u{1}" + "customer_email,order_id,order_time,payment_method,amount,currency\n"
            + "ada@example.com,A-1,2026-01-02T03:04:05Z,card,12.50,EUR\n").utf8)),
        ("interactions.csv", Array(("\u{2}" + "customer_email,occurred_at,channel,summary\n"
            + "ada@example.com,2026-01-02T03:04:05Z,email,\"said \"\"hi\"\"\"\n").utf8)),
    ]
}

private enum FuzzYAML {
    static func policy(_ input: [UInt8]) -> Bool {
        (try? Policy.load(yaml: String(decoding: input, as: UTF8.self), schema: Fixtures.schema, fileName: "fuzz.yaml")) != nil
    }

    static func schema(_ input: [UInt8]) -> Bool {
        guard let schema = try? Schema.load(yaml: String(decoding: input, as: UTF8.self), fileName: "fuzz.yaml") else { return false }
        // A schema that loads must also carry a policy check and validation without crashing.
        _ = try? Policy.load(yaml: Policy.defaultYAML, schema: schema)
        let validator = FieldValidator(schema: schema)
        for entity in Entity.allCases {
            let values = Dictionary(schema.fields(of: entity).map { ($0.name, "x") }, uniquingKeysWith: { first, _ in first })
            _ = try? validator.validateRecord(values, entity: entity)
        }
        return true
    }
}

private enum FuzzEnvelope {
    static let slot = SealedSlot(entity: .customers, field: "email", recordID: 7, view: .plain)

    static func run(_ input: [UInt8]) -> Bool {
        guard let mode = input.first else { return false }
        let rest = Array(input.dropFirst())
        switch mode % 4 {
        case 0:
            // Only a genuine envelope opens, and then no single changed byte still opens.
            let version = FieldEnvelope.keyVersion(of: rest) ?? 1
            func opens(_ envelope: [UInt8]) -> Bool {
                (try? FieldEnvelope.open(envelope, key: Fixtures.fieldKey, keyVersion: version, vaultID: Fixtures.vaultID, slot: slot)) != nil
            }
            _ = FieldEnvelope.session(of: rest)
            guard opens(rest) else { return false }
            for index in rest.indices {
                var tampered = rest
                tampered[index] ^= 0x01
                require(!opens(tampered), "an envelope opened with byte \(index) changed")
            }
            return true
        case 1:
            // Whatever is sealed opens to the same text, and only in its own slot.
            let text = String(decoding: rest, as: UTF8.self)
            guard let sealed = try? FieldEnvelope.seal(text, key: Fixtures.fieldKey, keyVersion: 3, vaultID: Fixtures.vaultID, slot: slot, session: nil)
            else { return false }
            require(sealed.count % 16 == (1 + 4 + 24 + 16) % 16, "padding does not hide the length")
            require((try? FieldEnvelope.open(sealed, key: Fixtures.fieldKey, keyVersion: 3, vaultID: Fixtures.vaultID, slot: slot)) == text,
                    "a sealed value did not open to itself")
            var moved = slot
            moved.recordID += 1
            require((try? FieldEnvelope.open(sealed, key: Fixtures.fieldKey, keyVersion: 3, vaultID: Fixtures.vaultID, slot: moved)) == nil,
                    "a sealed value opened in another record")
            return true
        case 2:
            var bytes = rest
            if (try? Padding.unpad(&bytes, blockSize: FieldEnvelope.paddingBlock)) != nil {
                require(bytes.count < rest.count && rest.count % FieldEnvelope.paddingBlock == 0, "unpadding accepted a bad length")
                return true
            }
            return false
        default:
            return (try? RecordCodec.decodeAttributes(String(decoding: rest, as: UTF8.self), entity: .customers, id: 1)) != nil
        }
    }

    static func seeds() throws -> [(String, [UInt8])] {
        let sealed = try FieldEnvelope.seal("ada@example.com", key: Fixtures.fieldKey, keyVersion: 1, vaultID: Fixtures.vaultID,
                                            slot: slot, session: nil)
        let session = try FieldEnvelope.seal("ada@example.com", key: Fixtures.fieldKey, keyVersion: 1, vaultID: Fixtures.vaultID,
                                             slot: slot, session: 9)
        var padded = Array("Zoë".utf8)
        try Padding.pad(&padded, blockSize: FieldEnvelope.paddingBlock)
        return [("open-format1", [0] + sealed), ("open-format2", [0] + session), ("roundtrip", [1] + Array("Zoë Ünïcødé".utf8)),
                ("unpad", [2] + padded), ("attributes", [3] + Array(#"{"region":"EU","loyalty_tier":"gold"}"#.utf8))]
    }
}

private enum FuzzBackup {
    static func run(_ input: [UInt8]) -> Bool {
        let file = Fixtures.scratch()
        guard FileManager.default.createFile(atPath: file, contents: Data(input)) else { return false }
        defer { unlink(file) }
        return (try? BackupStream.read(file, key: Fixtures.backupKey, sink: nil, progress: nil)) != nil
    }

    /// Real backups under the fixed key: one chunk, several chunks, and an empty snapshot.
    static func seeds() throws -> [(String, [UInt8])] {
        let recipient = BackupRecipient(vaultID: Fixtures.vaultID, version: 1, publicKey: Fixtures.backupKey.pair.publicKey)
        var seeds: [(String, [UInt8])] = []
        for (name, size, chunk) in [("one-chunk", 300, 1_024), ("five-chunks", 1_100, 256), ("empty", 0, 64)] {
            let base = Fixtures.scratch()
            let snapshot = base + ".snapshot"
            let output = base + ".cvbackup"
            defer { unlink(snapshot); unlink(output) }
            _ = FileManager.default.createFile(atPath: snapshot, contents: Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
            _ = try BackupStream.write(snapshot: snapshot, to: output, recipient: recipient, createdAt: Date(timeIntervalSince1970: 1_790_000_000),
                                       chunkSize: chunk, progress: nil)
            seeds.append((name, Array(try Data(contentsOf: URL(fileURLWithPath: output)))))
        }
        return seeds
    }
}
