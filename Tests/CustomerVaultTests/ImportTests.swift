import Foundation
import Testing
@testable import CustomerVault
import VaultFileInspector

@Suite("CSV import")
struct ImportTests {
    static let header = "name,age,gender,address,phone,email,birth_date,region"

    @Test("RFC 4180 quoting, a BOM and CRLF line ends import correctly")
    func rfc4180() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let csv = "\u{FEFF}" + Self.header + "\r\n"
            + "\"Núñez, José\",41,male,\"1 \"\"Quoted\"\" Street\nSecond line, Madrid\",+34 600 000 001,jose@example.com,,EU\r\n"
            + "山田太郎,,unspecified,\"東京都, 千代田区\",+81 3 0000 0001,yamada@example.jp,1980-05-06,APAC\r\n"
            + "Zoë Ångström,30,female,,,zoe@example.se,,EU"
        let file = try directory.write("c.csv", csv)
        let report = try await vault.importCSV(.customers, from: file)
        #expect(report.accepted == 3)
        #expect(report.rejected == 0)
        let jose = try #require(try await vault.findCustomers(field: "email", equalTo: "JOSE@example.com").first)
        #expect(jose.fields["name"] == "Núñez, José")
        #expect(jose.fields["address"] == "1 \"Quoted\" Street\nSecond line, Madrid", "line breaks in an address are kept")
        let yamada = try await vault.findCustomers(field: "name", equalTo: "山田太郎")
        #expect(yamada.map { $0.fields["email"] } == ["yamada@example.jp"])
        #expect(yamada.first?.fields["age_band"] != nil)
        #expect(try await vault.findCustomers(field: "phone", equalTo: "+81-3-0000-0001").count == 1)
    }

    @Test("each imported consent flag starts the customer's consent history with its value; no flag, no event")
    func consentHistoryStarts() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let csv = Self.header + ",marketing_consent\n"
            + "Ada Yes,,,,,ada@example.com,,EU,true\n"
            + "Bob No,,,,,bob@example.com,,EU,false\n"
            + "Cy None,,,,,cy@example.com,,EU,\n"
        let report = try await vault.importCSV(.customers, from: try directory.write("c.csv", csv))
        #expect(report.accepted == 3)
        try vault.close()
        let events = try VaultFileInspector(directory.path("test.vault")).consentEventsByCustomer()
        #expect(events == ["1 marketing_consent true true", "2 marketing_consent false true"])
    }

    @Test("each bad row is refused with its record, line, field and reason; valid rows all stored")
    func rejects() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        _ = try await vault.addCustomer(["name": "Existing", "email": "taken@example.com"])
        let rows = [
            "Good One,30,female,,+44 20 7946 0001,good1@example.com,,UK",           // record 2
            "Bad Email,30,female,,,not-an-email,,UK",                               // 3
            "Old Person,999,male,,,old@example.com,,UK",                            // 4
            "\(String(repeating: "N", count: 201)),30,male,,,long@example.com,,UK", // 5
            "Letters,30,male,,CALL ME MAYBE,letters@example.com,,UK",               // 6
            ",30,male,,,noname@example.com,,UK",                                    // 7
            "Dup Existing,30,male,,,TAKEN@example.com,,UK",                         // 8
            "Good Two,30,male,,,good2@example.com,,MARS",                           // 9 (bad region)
            "Too,Many,Fields,,,,,,,",                                               // 10
            "Good Three,30,male,\"multi\nline\",,good3@example.com,,EU",            // 11 (2 lines)
            "Dup In File,30,male,,,good1@example.com,,UK",                          // 12
            "bad\"quote,30,male,,,q@example.com,,UK",                              // 13
            "Good Four,,female,,,good4@example.com,1990-02-28,US",                  // 14
        ]
        let file = try directory.write("c.csv", Self.header + "\n" + rows.joined(separator: "\n") + "\n")
        let report = try await vault.importCSV(.customers, from: file, batchSize: 4)
        // Record 8 names a customer stored before (by e-mail): already stored, not refused.
        let expected: [(Int, String)] = [(3, "email"), (4, "age"), (5, "name"), (6, "phone"), (7, "name"),
                                         (9, "region"), (10, ""), (12, "email"), (13, "")]
        #expect(report.rejects.map(\.record) == expected.map(\.0))
        #expect(report.rejects.map { $0.problems.map(\.field).joined(separator: ",") } == expected.map(\.1))
        #expect(report.alreadyStored == 1)
        #expect(report.rejects.first { $0.record == 12 }?.problems.first?.reason == "has the same e-mail address as record 2 of this file")
        #expect(report.rejects.first { $0.record == 12 }?.line == 13, "record 11 spans two lines")
        #expect(report.accepted == 3)
        for reject in report.rejects {
            #expect(!reject.problems.contains { $0.reason.contains("not-an-email") || $0.reason.contains("CALL ME") }, "reasons never echo values")
        }
        for email in ["good1@example.com", "good3@example.com", "good4@example.com"] {
            #expect(try await vault.findCustomers(field: "email", equalTo: email).count == 1, "\(email) must be stored")
        }
        #expect(try await vault.customerCount() == 4)
        // No half-stored rows: every sealed value belongs to a customer that exists.
        let orphans = try vault.liveFile.orphanSealedCustomerValues()
        #expect(orphans == 0)
    }

    @Test("a wrong header, a missing column or an unterminated quote imports nothing", arguments: [
        ("name,email,shoe_size\nA,a@example.com,42\n", "shoe_size"),
        ("name,age\nA,3\n", "email"),
        ("name,email,email\nA,a@example.com,b@example.com\n", "twice"),
        ("name,email\nA,a@example.com\n\"B,b@example.com\nC,c@example.com\n", "line 3"),
        ("", "empty"),
    ])
    func fileLevelErrors(csv: String, mention: String) async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let file = try directory.write("c.csv", csv)
        let error = await VaultError.caught { _ = try await vault.importCSV(.customers, from: file) }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.contains(mention) == true, "\(error?.message ?? "") should mention \(mention)")
        #expect(try await vault.customerCount() == 0)
    }

    @Test("every index entry of a batch is written, the held ones too: each name and phone finds exactly its rows")
    func heldIndexEntries() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        // Names repeat across batches (the name index holds many entries per digest); phones are distinct.
        let names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Emmy Noether", "Kurt Gödel"]
        let rows = (0..<61).map { "\(names[$0 % names.count]),30,female,,+44 20 7946 \(String(format: "%04d", $0)),p\($0)@example.com,,EU" }
        let file = try directory.write("c.csv", Self.header + "\n" + rows.joined(separator: "\n") + "\n")
        let report = try await vault.importCSV(.customers, from: file, batchSize: 7)
        #expect(report.accepted == 61)
        for (index, name) in names.enumerated() {
            let expected = Set((0..<61).filter { $0 % names.count == index }.map { "p\($0)@example.com" })
            let found = try await vault.findCustomers(field: "name", equalTo: name)
            #expect(Set(found.compactMap { $0.fields["email"] }) == expected, "\(name)")
        }
        for row in [0, 6, 7, 33, 60] {
            let found = try await vault.findCustomers(field: "phone", equalTo: "+44 20 7946 \(String(format: "%04d", row))")
            #expect(found.compactMap { $0.fields["email"] } == ["p\(row)@example.com"])
        }
        let verified = try await vault.verifyIntegrity()
        #expect(verified.indexEntries == 61 * 3, "an e-mail, a phone and a name entry per customer, no more, no fewer")
    }

    @Test("an interrupted import resumes after its last batch; a finished one is not repeated")
    func resume() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let rows = (1...50).map { "Person \($0),30,female,,,p\($0)@example.com,,EU" } + ["Bad,30,female,,,bad,,EU"]
        let file = try directory.write("c.csv", Self.header + "\n" + rows.joined(separator: "\n") + "\n")
        let interrupted = Task {
            try await vault.importCSV(.customers, from: file, batchSize: 7) { progress in
                if progress.accepted >= 14 { withUnsafeCurrentTask { $0?.cancel() } }
            }
        }
        let firstRun = await interrupted.result
        #expect(throws: (any Error).self) { try firstRun.get() }
        let partial = try await vault.customerCount()
        #expect(partial == 14)

        let report = try await vault.importCSV(.customers, from: file, batchSize: 7)
        #expect(report.resumedAfterRecord == 15)
        #expect(report.accepted == 50)
        #expect(report.rejects.map(\.record) == [52])
        #expect(try await vault.customerCount() == 50)

        let again = try await vault.importCSV(.customers, from: file)
        #expect(again.alreadyImported)
        #expect(try await vault.customerCount() == 50)
    }

    @Test("transactions and interactions attach to customers by e-mail; unknown customers are refused")
    func history() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let id = try await vault.addCustomer(["name": "Ada", "email": "ada@example.com"])
        let transactions = try directory.write("t.csv", """
            customer_email,order_id,order_time,payment_method,amount,currency
            ADA@example.com,o-1,2025-03-04T10:22:01Z,card,12.50,EUR
            nobody@example.com,o-2,2025-03-04T10:22:01Z,card,1.00,EUR
            ada@example.com,o-3,yesterday,card,1.00,EUR
            ada@example.com,o-4,2025-03-04T10:22:01+02:00,bitcoin,1.00,EUR

            """)
        let report = try await vault.importCSV(.transactions, from: transactions)
        #expect(report.accepted == 1)
        #expect(report.rejects.map { $0.problems.map(\.field) } == [["customer_email"], ["order_time"], ["payment_method"]])
        let interactions = try directory.write("i.csv", """
            customer_email,occurred_at,channel,summary
            ada@example.com,2025-03-04T10:22:01Z,phone,"Asked about ""refunds"", twice
            and called back"

            """)
        #expect(try await vault.importCSV(.interactions, from: interactions).accepted == 1)
        let stored = try await vault.history(.interactions, customerID: id)
        #expect(stored.first?.fields["summary"] == "Asked about \"refunds\", twice\nand called back")
        #expect(try await vault.history(.transactions, customerID: id).first?.fields["amount"] == "12.50")
    }
}
