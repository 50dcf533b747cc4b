import Foundation
import Testing
@testable import CustomerVault
import VaultFileInspector

/// A CRM export as a typical CRM writes it, generated here so nobody tunes the importer to it by
/// hand: customers in seven locales with national phone numbers and a country column, addresses
/// over several lines, orders with local times and payment methods written as labels, contact
/// history with channel labels, and a second month of orders that overlaps the first.
struct CRMExport {
    struct Locale: Sendable {
        var country: [String]
        var names: [String]
        var phone: @Sendable (Int) -> String
        var address: @Sendable (Int) -> String
        var region: String
        var currency: String
    }

    static let locales: [Locale] = [
        Locale(country: ["United Kingdom", "GB", "UK"], names: ["Oliver Smith", "Amelia Jones", "Siobhán O'Brien"],
               phone: { String(format: "020 7946 %04d", $0 % 10_000) }, address: { "\($0) Baker Street\nLondon\nNW1 6XE" }, region: "UK", currency: "GBP"),
        Locale(country: ["Deutschland", "DE", "Germany"], names: ["Jürgen Müller", "Straßer Weiß", "Anna-Lena Schäfer"],
               phone: { String(format: "030 %07d", 1_000_000 + $0) }, address: { "Hauptstraße \($0)\r\n10115 Berlin" }, region: "EU", currency: "EUR"),
        Locale(country: ["France", "FR", "FRA"], names: ["Clémence Lefèvre", "Élodie Dupré", "François Lœuvre"],
               phone: { String(format: "01 23 %02d %02d %02d", ($0 / 10_000) % 100, ($0 / 100) % 100, $0 % 100) },
               address: { "\($0) rue de la Paix\n75002 Paris" }, region: "EU", currency: "EUR"),
        Locale(country: ["Türkiye", "TR", "Turkey"], names: ["İbrahim Yılmaz", "Işıl Öztürk", "Çağla Şahin"],
               phone: { String(format: "0212 555 %04d", $0 % 10_000) }, address: { "Atatürk Cd. \($0)\nİstanbul" }, region: "EU", currency: "TRY"),
        Locale(country: ["Japan", "JP", "JPN"], names: ["佐藤 花子", "鈴木 一郎", "ＴＡＮＡＫＡ Ｙｕｋｉ"],
               phone: { String(format: "03-%04d-%04d", 1000 + $0 % 9000, $0 % 10_000) }, address: { "東京都千代田区\($0)-1\n100-0001" }, region: "APAC", currency: "JPY"),
        Locale(country: ["España", "ES", "Spain"], names: ["José García", "María Pérez", "Iñaki Ibáñez"],
               phone: { String(format: "612 %03d %03d", ($0 / 1000) % 1000, $0 % 1000) }, address: { "Calle Mayor \($0)\n28013 Madrid" }, region: "EU", currency: "EUR"),
        Locale(country: ["USA", "US", "United States"], names: ["Mary Johnson", "James O'Neil", "Zoë Brooks"],
               phone: { String(format: "(415) 555-%04d", $0 % 10_000) }, address: { "\($0) Market St\nSan Francisco, CA 94103" }, region: "US", currency: "USD"),
    ]

    static let paymentLabels = ["Credit Card", "Bank Transfer", "PayPal", "Direct Debit", "Apple Pay", "Gift Card", "Invoice", "Cash", "VISA", "debit-card"]
    static let channelLabels = ["E-Mail", "Phone Call", "Live Chat", "Video Call", "In Store", "SMS", "Letter", "Social Media", "Meeting", "WhatsApp"]

    var customers = "ID,Name,Email,Phone,Address,Country,Region,Marketing Consent\n"
    var orders = ["", ""]
    var interactions = "customer_email,occurred_at,channel,summary\n"
    /// Order id → (currency, amount in cents) of every valid order in either file.
    var validOrders: [String: (currency: String, cents: Int)] = [:]
    var validCustomers = 0
    var validInteractions = 0
    var validOrderRows = [0, 0]
    /// Rows of the second order file whose order is also in the first.
    var overlapping = 0

    static func cell(_ text: String) -> String {
        // Scalars, not Characters: "\r\n" is one Character, which contains neither "\r" nor "\n".
        text.unicodeScalars.contains(where: { ",\"\n\r".unicodeScalars.contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// A local time as exports write it, in one of several ISO 8601 spellings.
    static func localTime(day: Int, minute: Int, style: Int) -> String {
        let date = String(format: "2026-%02d-%02d", 6 + (day - 1) / 30, (day - 1) % 30 + 1)
        let time = String(format: "%02d:%02d", 8 + minute / 60 % 12, minute % 60)
        switch style % 5 {
        case 0: return "\(date) \(time):00"
        case 1: return "\(date)T\(time)"
        case 2: return "\(date) \(time):07.250"
        case 3: return "\(date)T\(time):00Z"
        default: return "\(date)T\(time):00+02:00"
        }
    }

    init(customers count: Int) {
        orders = ["customer_email,order_id,order_time,payment_method,amount,currency\n", "customer_email,order_id,order_time,payment_method,amount,currency\n"]
        var emails: [String] = []
        for n in 1...count {
            let locale = Self.locales[n % Self.locales.count]
            let email = "customer\(n)@example.\(locale.region.lowercased()).test"
            emails.append(email)
            let name = locale.names[n % locale.names.count]
            let consent = ["Yes", "no", "TRUE", "0"][n % 4]
            customers += [String(9_000 + n), name, email, locale.phone(n), locale.address(n), locale.country[n % locale.country.count],
                          locale.region, consent].map(Self.cell).joined(separator: ",") + "\n"
            validCustomers += 1
        }
        // Two bad rows, each with more than one problem.
        customers += "9998,Bad Row,not-an-email,12,,Atlantis,Moon,maybe\n"
        customers += "9999,,also bad,+44 20 7946 0000,,GB,EU,yes\n"
        var order = 10_000
        for (index, email) in emails.enumerated() {
            let locale = Self.locales[(index + 1) % Self.locales.count]
            for k in 0..<3 {
                order += 1
                let cents = 500 + (index * 37 + k * 101) % 90_000
                let day = 1 + (index * 3 + k) % 45
                let id = "SO-\(order)"
                let row = [email, id, Self.localTime(day: day, minute: index * 7 + k, style: index + k), Self.paymentLabels[(index + k) % Self.paymentLabels.count],
                           String(format: "%d.%02d", cents / 100, cents % 100), locale.currency].map(Self.cell).joined(separator: ",") + "\n"
                validOrders[id] = (locale.currency, cents)
                // June in the first file, 15 June to July in the second: days 15 to 30 are in both.
                if day <= 30 { orders[0] += row; validOrderRows[0] += 1 }
                if day >= 15 { orders[1] += row; validOrderRows[1] += 1 }
                if day >= 15 && day <= 30 { overlapping += 1 }
            }
            let note = "Called about order SO-\(order).\nCustomer asked for a callback,\r\nthen \"confirmed\"."
            interactions += [email, Self.localTime(day: 1 + index % 40, minute: index, style: index + 1), Self.channelLabels[index % Self.channelLabels.count], note]
                .map(Self.cell).joined(separator: ",") + "\n"
            validInteractions += 1
        }
        orders[1] += "nobody@example.test,SO-1,2026-07-01 10:00,Cheque,12.5,EUR\n"
    }
}

@Suite("Real CRM exports (issue #18)")
struct CRMExportTests {
    @Test("a CRM export in seven locales imports completely; the overlapping month counts once; the report's totals match the files")
    func crmExport() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let export = CRMExport(customers: 210)
        let files = ["customers.csv": export.customers, "june.csv": export.orders[0], "overlap.csv": export.orders[1], "interactions.csv": export.interactions]
        for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: directory.path(name))) }
        let options = ImportOptions(batchSize: 64, timeZone: "Europe/Paris")

        let customers = try await vault.importCSV(.customers, from: directory.path("customers.csv"), options: options)
        #expect(customers.accepted == export.validCustomers && customers.rejected == 2, "\(customers.rejects.prefix(3))")
        #expect(customers.rejects.map(\.record) == [export.validCustomers + 2, export.validCustomers + 3])
        #expect(customers.rejects.first?.problems.map(\.field) == ["email", "phone", "region", "country", "marketing_consent"],
                "every problem of the row, in schema order: \(customers.rejects.first?.problems ?? [])")
        #expect(customers.rejects.last?.problems.map(\.field) == ["name", "email"])
        let june = try await vault.importCSV(.transactions, from: directory.path("june.csv"), options: options)
        #expect(june.accepted == export.validOrderRows[0] && june.rejected == 0, "\(june.rejects.prefix(3))")
        let overlap = try await vault.importCSV(.transactions, from: directory.path("overlap.csv"), options: options)
        #expect(overlap.accepted == export.validOrderRows[1] - export.overlapping, "\(overlap.rejects.prefix(3))")
        #expect(overlap.alreadyStored == export.overlapping && overlap.rejected == 1)
        #expect(overlap.rejects.first?.problems.map(\.field) == ["payment_method"], "\(overlap.rejects)")
        let interactions = try await vault.importCSV(.interactions, from: directory.path("interactions.csv"), options: options)
        #expect(interactions.accepted == export.validInteractions && interactions.rejected == 0, "\(interactions.rejects.prefix(3))")
        #expect(interactions.timeZone == "Europe/Paris")

        // Totals computed from the files alone, each order once.
        let report = try await vault.aggregateReport()
        #expect(report.customers == export.validCustomers)
        #expect(report.transactions == export.validOrders.count)
        var cents: [String: Int] = [:]
        for order in export.validOrders.values { cents[order.currency, default: 0] += order.cents }
        #expect(report.amountByCurrency == cents.mapValues { String(format: "%d.%02d", $0 / 100, $0 % 100) })

        // Values read as written: a national number in its row's country, a local time in the zone
        // given, a label as its enumeration value, an address with its lines.
        let found = try await vault.findCustomers(field: "email", equalTo: "customer2@example.eu.test")
        let customer = try #require(found.first)
        #expect(customer.fields["phone"] == "+33123000002" && customer.fields["country"] == "FR", "\(customer.fields)")
        #expect(customer.fields["address"] == "2 rue de la Paix\n75002 Paris")
        let germans = try await vault.findCustomers(field: "email", equalTo: "customer1@example.eu.test")
        #expect(germans.first?.fields["address"] == "Hauptstraße 1\n10115 Berlin", "CR LF reads as one line break")
        let history = try await vault.history(.transactions, customerID: customer.id)
        #expect(history.allSatisfy { ["card", "bank_transfer", "paypal", "direct_debit", "wallet", "gift_card", "invoice", "cash"].contains($0.fields["payment_method"] ?? "") })
        #expect(history.allSatisfy { ($0.fields["order_time"] ?? "").hasSuffix("Z") && $0.fields["order_time"]?.count == 20 })
        let notes = try await vault.history(.interactions, customerID: customer.id)
        #expect(notes.first?.fields["summary"]?.hasSuffix("\nCustomer asked for a callback,\nthen \"confirmed\".") == true, "CR LF reads as LF")

        // The same overlapping file again: nothing to do, nothing counted twice.
        let again = try await vault.importCSV(.transactions, from: directory.path("overlap.csv"), options: options)
        #expect(again.alreadyImported && again.accepted == overlap.accepted)
        #expect(try await vault.aggregateReport().transactions == export.validOrders.count)
    }

    @Test("local times are read in the zone given: offsets, no zone, a skipped and a repeated hour")
    func localTimes() {
        let paris = TimeZone(identifier: "Europe/Paris")!
        #expect(Timestamps.readInstant("2026-06-03 14:05", zone: paris) == .instant("2026-06-03T12:05:00Z"))
        #expect(Timestamps.readInstant("2026-01-03T14:05:59.999", zone: paris) == .instant("2026-01-03T13:05:59Z"))
        #expect(Timestamps.readInstant("2026-06-03T14:05:00Z", zone: paris) == .instant("2026-06-03T14:05:00Z"))
        #expect(Timestamps.readInstant("2026-06-03 14:05:00 +0530", zone: nil) == .instant("2026-06-03T08:35:00Z"))
        #expect(Timestamps.readInstant("2026-06-03T00:30-03", zone: nil) == .instant("2026-06-03T03:30:00Z"))
        #expect(Timestamps.readInstant("2026-06-03 14:05", zone: nil) == .needsZone)
        #expect(Timestamps.readInstant("2026-06-03", zone: paris) == .dateOnly)
        #expect(Timestamps.readInstant("2026-03-29 02:30", zone: paris) == .skipped("Europe/Paris"), "clocks jump from 02:00 to 03:00")
        #expect(Timestamps.readInstant("2026-10-25 02:30", zone: paris) == .instant("2026-10-25T00:30:00Z"), "the earlier of the two")
        #expect(Timestamps.readInstant("2024-02-29T23:59:59Z", zone: nil) == .instant("2024-02-29T23:59:59Z"))
        for bad in ["2023-02-29 10:00", "2026-13-01 10:00", "2026-06-03 24:00", "2026-06-03T14:05:00+25:00", "03/06/2026 14:05", "2026-06-03T14", "2026-06-03 14:05 PM"] {
            #expect(Timestamps.readInstant(bad, zone: paris) == .malformed, "\(bad)")
        }
        // Every canonical form reads back as itself.
        for text in ["1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2000-02-29T12:00:00Z", "2099-12-31T23:59:59Z"] {
            #expect(Timestamps.readInstant(text, zone: nil) == .instant(text))
        }
    }

    @Test("enumeration labels, aliases, countries and national phone numbers")
    func labels() throws {
        let schema = try Schema.shippedDefault()
        let validator = FieldValidator(schema: schema)
        let payment = try #require(schema.field(.transactions, "payment_method"))
        for (label, value) in [("Bank Transfer", "bank_transfer"), ("BANK-TRANSFER", "bank_transfer"), ("credit card", "card"), ("Überweisung", "bank_transfer"),
                               ("Prélèvement", "direct_debit"), ("PAYPAL", "paypal"), ("Ｃａｓｈ", "cash"), ("gift_card", "gift_card")] {
            #expect(try validator.canonical(label, for: payment) == value, "\(label)")
        }
        #expect(throws: FieldProblem.self) { try validator.canonical("Cheque", for: payment) }
        do {
            _ = try validator.canonical("paypall", for: payment)
        } catch {
            #expect(error.reason.contains("did you mean 'paypal'"), "\(error.reason)")
        }
        let country = try #require(schema.field(.customers, "country"))
        for (text, code) in [("Türkiye", "TR"), ("turkey", "TR"), ("DEU", "DE"), ("deutschland", "DE"), ("UK", "GB"), ("jp", "JP")] {
            #expect(try validator.canonical(text, for: country) == code, "\(text)")
        }
        let phone = try #require(schema.field(.customers, "phone"))
        #expect(try validator.canonical("+44 20 7946 0123", for: phone) == "+442079460123")
        #expect(try validator.canonical("0044 20 7946 0123", for: phone) == "+442079460123")
        do {
            _ = try validator.canonical("020 7946 0123", for: phone)
            Issue.record("a national number without a country was accepted")
        } catch {
            #expect(error.reason.contains("international form"), "\(error.reason)")
        }
        // Trunk prefixes as libphonenumber lists them: dropped in GB and the US, kept where there is none (Italy).
        for (number, country, expected) in [("020 7946 0123", "GB", "+442079460123"), ("1 (415) 555-0134", "US", "+14155550134"),
                                            ("(415) 555-0134", "US", "+14155550134"), ("06 6982 1234", "IT", "+390669821234"),
                                            ("8 495 123-45-67", "RU", "+74951234567"), ("0212 555 1234", "TR", "+902125551234")] {
            #expect(try validator.canonical(number, for: phone, country: Countries.lookup(country)) == expected, "\(number) in \(country)")
        }
        let withCountry = FieldValidator(schema: schema, country: Countries.lookup("FR"))
        #expect(try withCountry.canonical("01 23 45 67 89", for: phone) == "+33123456789")
    }

    @Test("the reject report of a bad file is the same on every run, with every problem of each row")
    func stableRejects() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        try vault.close()
        var bad = "name,email,phone,age,birth_date,region,country,marketing_consent,gender\n"
        for n in 1...40 {
            bad += ["", "Name \(n)"][n % 2] + "," + ["x@", "ok\(n)@example.com", "a b@c"][n % 3] + "," + ["12", "+44 20 7946 0000", "020 7946 0000"][n % 3]
                + "," + ["-1", "200", "30", "x"][n % 4] + "," + ["2023-02-30", "1985-01-01", "tomorrow"][n % 3] + "," + ["Mars", "EU"][n % 2]
                + "," + ["Narnia", "GB", ""][n % 3] + "," + ["perhaps", "yes"][n % 2] + ",x\n"
        }
        let file = directory.path("bad.csv")
        try Data(bad.utf8).write(to: URL(fileURLWithPath: file))
        var reports: [Data] = []
        for run in 0..<10 {
            let copy = directory.path("run\(run).vault")
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: directory.path("test.vault" + suffix)) {
                try FileManager.default.copyItem(atPath: directory.path("test.vault" + suffix), toPath: copy + suffix)
            }
            let opened = try await CustomerVault.open(at: copy, principal: "admin", credential: Fixtures.credential())
            let report = try await opened.importCSV(.customers, from: file)
            try opened.close()
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            reports.append(try encoder.encode(report.rejects))
            if run == 0 {
                #expect(report.rejects.contains { $0.problems.count >= 4 }, "rows with several problems list each")
                for reject in report.rejects {
                    let order = reject.problems.map(\.field).compactMap { field in schema.fields(of: .customers).firstIndex { $0.name == field } }
                    #expect(order == order.sorted(), "record \(reject.record): problems in schema order")
                }
            }
        }
        #expect(Set(reports).count == 1, "\(Set(reports).count) different reports in 10 runs")
    }

    @Test("file-level checks before anything is stored: another encoding, another delimiter, a header in other spelling")
    func fileChecks() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        // Windows-1252, as spreadsheets export: é is 0xE9, € is 0x80.
        let latin = directory.path("latin.csv")
        var bytes = Array("name,email,address\nRen".utf8) + [0xE9] + Array(" Dupont,rene@example.com,\"1 rue du March".utf8) + [0xE9, 0x0A]
        bytes += Array("Paris \u{0}".utf8.dropLast()) + [0x80] + Array("\"\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: latin))
        let refused = await VaultError.caught { _ = try await vault.importCSV(.customers, from: latin) }
        #expect(refused?.code == .invalidInput && refused?.message.contains("not UTF-8 at byte 22") == true && refused?.message.contains("iconv") == true,
                "\(refused?.message ?? "accepted")")
        #expect(try await vault.customerCount() == 0, "nothing was stored")
        let report = try await vault.importCSV(.customers, from: latin, options: ImportOptions(encoding: .windows1252))
        #expect(report.accepted == 1, "\(report.rejects)")
        let rene = try #require(try await vault.findCustomers(field: "email", equalTo: "rene@example.com").first)
        #expect(rene.fields["name"] == "René Dupont" && rene.fields["address"] == "1 rue du Marché\nParis €")

        // Semicolons, as European spreadsheets export; commas inside values stay commas.
        let semicolons = try directory.write("semi.csv", "Name;E-Mail;Address\nJean Valjean;jean@example.com;12, rue Plumet\n")
        let wrong = await VaultError.caught { _ = try await vault.importCSV(.customers, from: semicolons) }
        #expect(wrong?.message.contains("separated by ';'") == true && wrong?.remedy == .useDelimiter(";"), "\(wrong?.message ?? "")")
        let header = await VaultError.caught { _ = try await vault.importCSV(.customers, from: semicolons, options: ImportOptions(delimiter: ";")) }
        #expect(header?.message.contains("unknown column 'E-Mail' (did you mean 'email'?)") == true, "\(header?.message ?? "")")
        let fixed = try directory.write("semi2.csv", "Name;Email;Address\nJean Valjean;jean@example.com;12, rue Plumet\n")
        #expect(try await vault.importCSV(.customers, from: fixed, options: ImportOptions(delimiter: ";")).accepted == 1)
        #expect(try await vault.findCustomers(field: "email", equalTo: "jean@example.com").first?.fields["address"] == "12, rue Plumet")

        // Several header problems are all named at once.
        let bad = try directory.write("bad.csv", "Nmae,email,emial,email\nx,y@example.com,z,w\n")
        let problems = await VaultError.caught { _ = try await vault.importCSV(.customers, from: bad) }
        for part in ["unknown column 'Nmae' (did you mean 'name'?)", "unknown column 'emial' (did you mean 'email'?)", "column 'email' appears twice",
                     "missing required column 'name'"] {
            #expect(problems?.message.contains(part) == true, "\(part) in \(problems?.message ?? "")")
        }
    }

    @Test("a row whose natural key is stored is already stored; the same key twice in one file names the first; addHistory refuses it")
    func naturalKeys() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let ada = try await vault.addCustomer(["name": "Ada", "email": "ada@example.com"])
        _ = try await vault.addCustomer(["name": "Bob", "email": "bob@example.com"])
        let file = try directory.write("t.csv", """
            customer_email,order_id,order_time,payment_method,amount,currency
            ada@example.com,A-1,2026-01-02 10:00,card,10.00,EUR
            ada@example.com,A-1,2026-01-02 10:00,card,10.00,EUR
            bob@example.com,A-2,2026-01-02 11:00,card,5.00,EUR

            """)
        let first = try await vault.importCSV(.transactions, from: file)
        #expect(first.accepted == 2 && first.rejects.map(\.record) == [3])
        #expect(first.rejects.first?.problems == [FieldProblem(field: "order_id", reason: "has the same value as record 2 of this file")])
        let other = try directory.write("t2.csv", """
            customer_email,order_id,order_time,payment_method,amount,currency
            ada@example.com,A-1,2026-01-02 10:00,card,10.00,EUR
            ada@example.com,A-2,2026-01-03 10:00,card,7.00,EUR
            ada@example.com,A-3,2026-01-04 10:00,card,1.00,EUR

            """)
        let second = try await vault.importCSV(.transactions, from: other)
        #expect(second.accepted == 1 && second.alreadyStored == 1, "\(second)")
        #expect(second.rejects.first?.problems.first?.reason.contains("stored already for another customer") == true)
        let refused = await VaultError.caught {
            _ = try await vault.addHistory(.transactions, customerID: ada, values: ["order_id": "A-3", "order_time": "2026-01-05T00:00:00Z",
                                                                                   "payment_method": "cash", "amount": "2"])
        }
        #expect(refused?.code == .conflict && refused?.message.contains("order_id") == true)
        #expect(try await vault.history(.transactions, customerID: ada).count == 2)
        #expect(try await vault.verifyIntegrity().indexEntries >= 3)

        // A file writer who deletes an entry would let a row in twice: verify names it.
        let vaultFile = try VaultFileInspector(vault.path)
        #expect(try vaultFile.delete(from: "natural_keys", where: ["value": "A-2"]) == 1)
        let missing = await VaultError.caught { _ = try await vault.verifyIntegrity() }
        #expect(missing?.code == .integrity && missing?.message.contains("has no entry for its order_id") == true, "\(missing?.message ?? "verified")")
        // One pointed at another record that does not hold the value is refused where it is used.
        try vaultFile.insert(into: "natural_keys", ["entity": "transactions", "field": "order_id", "value": "A-9",
                                                    "record_id": try vaultFile.smallest("id", in: "transactions")])
        let planted = try directory.write("t3.csv", "customer_email,order_id,order_time,payment_method,amount\nada@example.com,A-9,2026-02-01 10:00,card,3\n")
        let blocked = await VaultError.caught { _ = try await vault.importCSV(.transactions, from: planted) }
        #expect(blocked?.code == .integrity && blocked?.message.contains("does not hold this value") == true, "\(blocked?.message ?? "imported")")
    }

    @Test("a schema's default currency: a file without a currency column counts in it, not under 'unknown'; sums keep every cent")
    func defaultCurrency() async throws {
        let directory = try TemporaryDirectory()
        let yaml = Schema.defaultYAML.replacingOccurrences(of: #"currency:       { class: plain, type: text, max_length: 3, pattern: "^[A-Z]{3}$" }"#,
                                                            with: #"currency:       { class: plain, type: text, max_length: 3, pattern: "^[A-Z]{3}$", default: EUR }"#)
        #expect(yaml != Schema.defaultYAML, "the shipped schema's currency line changed; update this test")
        let vault = try await Fixtures.vault(in: directory, schema: try Fixtures.schema(yaml))
        _ = try await vault.addCustomer(["name": "Ada", "email": "ada@example.com"])
        let file = try directory.write("t.csv", """
            customer_email,order_id,order_time,payment_method,amount
            ada@example.com,A-1,2026-01-02 10:00,card,99999999.99
            ada@example.com,A-2,2026-01-02 11:00,card,0.01
            ada@example.com,A-3,2026-01-02 12:00,card,0.10

            """)
        #expect(try await vault.importCSV(.transactions, from: file).accepted == 3)
        let report = try await vault.aggregateReport()
        #expect(report.amountByCurrency == ["EUR": "100000000.10"], "\(report.amountByCurrency)")
        #expect(try await vault.history(.transactions, customerID: 1).allSatisfy { $0.fields["currency"] == "EUR" })
        // Decimal arithmetic: seventeen significant digits survive (a Double keeps about fifteen).
        #expect(CustomerVault.twoPlaces(Decimal(string: "12345678901234567.89")!) == "12345678901234567.89")
        #expect(CustomerVault.twoPlaces(Decimal(string: "0.005")!) == "0.01")
        #expect(CustomerVault.twoPlaces(Decimal(string: "7")!) == "7.00")
        #expect(CustomerVault.twoPlaces(Decimal(string: "7.5")!) == "7.50")
    }

    @Test("--mode upsert: a stored customer (by e-mail) and a stored order (by order_id) take the row's non-empty values; insert leaves them")
    func upsert() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let ada = try await vault.addCustomer(["name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0001",
                                               "address": "1 Old Road", "region": "EU"])
        let customers = try directory.write("customers.csv", """
            name,email,phone,address,region
            Ada King,ADA@example.com,+44 20 7946 0002,,UK
            Bob Byron,bob@example.com,+44 20 7946 0003,3 New Road,EU

            """)
        let inserted = try await vault.importCSV(.customers, from: customers)
        #expect(inserted.accepted == 1 && inserted.alreadyStored == 1 && inserted.updated == 0, "\(inserted)")
        #expect(try await vault.customer(ada).fields["name"] == "Ada Lovelace", "insert leaves a stored customer as it is")

        let upserted = try await vault.importCSV(.customers, from: customers, options: ImportOptions(mode: .upsert))
        #expect(upserted.accepted == 0 && upserted.updated == 2 && upserted.alreadyStored == 0 && upserted.rejected == 0, "\(upserted)")
        let record = try await vault.customer(ada)
        #expect(record.fields["name"] == "Ada King" && record.fields["phone"] == "+442079460002" && record.fields["region"] == "UK")
        #expect(record.fields["address"] == "1 Old Road", "an empty cell leaves the stored value")
        #expect(try await vault.findCustomers(field: "phone", equalTo: "+44 20 7946 0002").map(\.id) == [ada])
        #expect(try await vault.findCustomers(field: "phone", equalTo: "+44 20 7946 0001").isEmpty, "the old index entry is gone")
        #expect(try await vault.findCustomers(field: "name", equalTo: "ada king").map(\.id) == [ada])
        #expect(try await vault.listCustomers().count == 2)
        let again = try await vault.importCSV(.customers, from: customers, options: ImportOptions(mode: .upsert))
        #expect(again.alreadyImported && again.updated == 2, "the same file in the same mode is done already: \(again)")

        let orders = try directory.write("orders.csv", """
            customer_email,order_id,order_time,payment_method,amount,currency
            ada@example.com,A-1,2026-01-02 10:00,card,10.00,EUR
            ada@example.com,A-2,2026-01-03 10:00,card,5.00,EUR

            """)
        #expect(try await vault.importCSV(.transactions, from: orders).accepted == 2)
        let corrected = try directory.write("corrected.csv", """
            customer_email,order_id,order_time,payment_method,amount,currency
            ada@example.com,A-1,2026-01-02 10:00,Bank Transfer,12.50,
            bob@example.com,A-2,2026-01-03 10:00,card,5.00,EUR
            ada@example.com,A-3,2026-01-04 10:00,cash,1.00,EUR

            """)
        let fixed = try await vault.importCSV(.transactions, from: corrected, options: ImportOptions(mode: .upsert))
        #expect(fixed.accepted == 1 && fixed.updated == 1 && fixed.rejected == 1, "\(fixed)")
        #expect(fixed.rejects.first?.problems.first?.reason.contains("stored already for another customer") == true, "an upsert never moves an order to another customer")
        let history = try await vault.history(.transactions, customerID: ada)
        #expect(history.count == 3)
        let first = try #require(history.first { $0.fields["order_id"] == "A-1" })
        #expect(first.fields["amount"] == "12.50" && first.fields["payment_method"] == "bank_transfer" && first.fields["currency"] == "EUR", "\(first.fields)")
        #expect(try await vault.aggregateReport().amountByCurrency == ["EUR": "18.50"])
        #expect(try await vault.verifyIntegrity().indexEntries >= 3)
    }

    @Test("an upsert batch that changes a stored consent between two new customers numbers every consent event once")
    func upsertConsentNumbering() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let ada = try await vault.addCustomer(["name": "Ada", "email": "ada@example.com", "marketing_consent": "false"])
        let file = try directory.write("c.csv", """
            name,email,marketing_consent
            New One,new1@example.com,true
            Ada,ada@example.com,true
            New Two,new2@example.com,true

            """)
        let report = try await vault.importCSV(.customers, from: file, options: ImportOptions(mode: .upsert))
        #expect(report.accepted == 2 && report.updated == 1 && report.rejected == 0, "\(report)")
        let history = try await vault.exportSubject(ada).consentHistory
        #expect(history.map(\.granted) == [false, true], "\(history)")
        #expect(try await vault.verifyIntegrity().indexEntries >= 3)
    }

    @Test("--mode upsert needs the update right: intake (import, no customer.update) is refused before anything is stored; restore and upsert do not mix")
    func upsertNeedsUpdateRight() async throws {
        let fixture = try await RoleFixture.make()
        let file = try fixture.directory.write("intake.csv", "name,email,region\nOverwritten Name,\(RoleFixture.canary["email"]!),EU\nNew Person,new.person@example.com,EU\n")
        let intake = try await fixture.open("intake")
        let refused = await VaultError.caught { _ = try await intake.importCSV(.customers, from: file, options: ImportOptions(mode: .upsert)) }
        #expect(refused?.code == .accessDenied, "\(refused?.message ?? "imported")")
        #expect(try await fixture.admin.customer(fixture.euID).fields["name"] == RoleFixture.canary["name"])
        #expect(try await fixture.admin.findCustomers(field: "email", equalTo: "new.person@example.com").isEmpty)
        let inserted = try await intake.importCSV(.customers, from: file)
        #expect(inserted.accepted == 1 && inserted.alreadyStored == 1)
        let mixed = await VaultError.caught { _ = try await fixture.admin.importCSV(.customers, from: file, options: ImportOptions(restore: true, mode: .upsert)) }
        #expect(mixed?.code == .invalidInput)
    }

    private var schema: Schema { (try? Schema.shippedDefault())! }
}
