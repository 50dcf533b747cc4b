import Foundation
import VaultCrypto
import VaultCore

/// What an import does with a row whose natural key (a customer's e-mail, a transaction's
/// `order_id`) a stored record holds already.
public enum ImportMode: String, Sendable, Equatable, Codable, CaseIterable {
    /// Leave the stored record as it is; the row counts as already stored.
    case insert
    /// Change the stored record to the row's values (non-empty cells only; an empty cell leaves its
    /// field as stored). Customers are matched by e-mail, history by its natural key. Needs the
    /// role's `customer.update` right and, for history, `transaction.write` or `interaction.write`.
    case upsert
}

/// How an import reads its file, beyond what the schema says.
public struct ImportOptions: Sendable, Equatable {
    /// Rows committed per transaction.
    public var batchSize: Int
    /// IANA time zone for times written without a zone; nil for the schema's `timezone` (UTC by default).
    public var timeZone: String?
    /// The country national phone numbers are read in when a row names none (ISO 3166: `GB`,
    /// `DEU`, `France`); nil for the schema's `default_country`.
    public var country: String?
    /// How the file's bytes encode text (UTF-8 unless said otherwise).
    public var encoding: CSVTextEncoding
    /// The field separator: `,` (RFC 4180), or `;`, a tab or `|` as some exports write.
    public var delimiter: Character
    /// CSV, or JSON Lines as `exportCustomers(format: .jsonl)` writes.
    public var format: FileFormat
    /// Whether the file is a cvault export to restore: its `id`, `created_at` and `updated_at`
    /// columns are given back to the records (an export imported into an empty vault comes back as
    /// it was), and `customer_id` names this vault's customers. Without it those columns are
    /// ignored (another tool's ids and times mean something else) and history rows name their
    /// customer by `customer_email`.
    public var restore: Bool
    /// Insert (the default) or upsert.
    public var mode: ImportMode

    public init(batchSize: Int = CustomerVault.defaultImportBatchSize, timeZone: String? = nil, country: String? = nil,
                encoding: CSVTextEncoding = .utf8, delimiter: Character = ",", format: FileFormat = .csv, restore: Bool = false,
                mode: ImportMode = .insert) {
        self.mode = mode
        self.batchSize = batchSize
        self.timeZone = timeZone
        self.country = country
        self.encoding = encoding
        self.delimiter = delimiter
        self.format = format
        self.restore = restore
    }

    /// The delimiter as a byte.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` for a delimiter other than `,`, `;`, tab or `|`.
    func delimiterByte() throws -> UInt8 {
        guard let byte = delimiter.asciiValue, [0x2C, 0x3B, 0x09, 0x7C].contains(byte) else {
            throw VaultError.invalidInput("the delimiter must be ',', ';', a tab or '|'")
        }
        return byte
    }

    /// A reader of `path` with these options.
    func reader(_ path: String) throws -> any ImportRecordSource {
        let byte = try delimiterByte()
        if format == .jsonl {
            guard encoding == .utf8, byte == 0x2C else { throw VaultError.invalidInput("a JSON Lines file is UTF-8 and has no delimiter: leave out the encoding and delimiter") }
            return try JSONLinesReader(path: path)
        }
        do {
            return encoding == .utf8 && byte == 0x2C ? try CSVReader(fileURL: URL(fileURLWithPath: path))
                : try CSVReader(fileURL: URL(fileURLWithPath: path), encoding: encoding, delimiter: byte)
        } catch {
            throw VaultError.io("cannot read \(path)")
        }
    }

    /// The validator rows are checked with.
    ///
    /// - Throws: ``VaultError`` `.invalidInput` for an unknown time zone or country.
    func validator(schema: Schema) throws -> FieldValidator {
        var zone: TimeZone?
        if let timeZone {
            guard let known = TimeZone(identifier: timeZone) else {
                throw VaultError.invalidInput("time zone '\(timeZone)' is not an IANA time zone (such as UTC, Europe/Paris, America/New_York)")
            }
            zone = known
        }
        var reading: Country?
        if let country {
            guard let known = Countries.lookup(country), !known.callingCode.isEmpty else {
                throw VaultError.invalidInput("country '\(country)' is not an ISO 3166 country with a calling code (write it as GB, DE, US, …)")
            }
            reading = known
        }
        return FieldValidator(schema: schema, timeZone: zone, country: reading)
    }

    /// What identifies "the same import" for resuming and for "imported already": the file's
    /// digest, with the options that change how its rows read (so the same file read in another
    /// time zone is another import; rows stored by the first are then recognised by natural key).
    func importIdentity(fileDigest: [UInt8]) throws -> [UInt8] {
        guard timeZone != nil || country != nil || encoding != .utf8 || delimiter != "," || format != .csv || restore || mode != .insert else {
            return fileDigest
        }
        var writer = ByteWriter(domain: "cvault.import-identity.v1")
        writer.append(fileDigest)
        writer.append(timeZone ?? "")
        writer.append(country.flatMap { Countries.lookup($0)?.alpha2 } ?? "")
        writer.append(encoding.rawValue)
        writer.append(String(delimiter))
        if format != .csv || restore {
            writer.append(format.rawValue)
            writer.append(restore ? "restore" : "")
        }
        // An upsert of a file imported before (inserting) is an import of its own.
        if mode != .insert { writer.append(mode.rawValue) }
        return try BLAKE2b.hash(writer.bytes)
    }
}
