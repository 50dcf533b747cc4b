import Foundation
import Testing
@testable import CustomerVault
import VaultFileInspector

@Suite("Blind-index search")
struct SearchTests {
    @Test("searches match normalised forms and nothing else")
    func normalisedSearch() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let id = try await vault.addCustomer(["name": "Zoë  Ångström", "email": "Zoe.A@Example.com", "phone": "020 7946 0123", "country": "GB"])
        let plain = try await vault.addCustomer(["name": "Zoe Angstrom", "email": "zoe.b@example.com", "phone": "020 7946 0124", "country": "United Kingdom"])
        for (field, query) in [("email", " ZOE.A@example.COM "), ("phone", "+44 (0)20 7946 0123"), ("phone", "0044 20 7946 0123")] {
            let found = try await vault.findCustomers(field: field, equalTo: query)
            #expect(found.map(\.id) == [id], "\(field) = \(query)")
        }
        // Names fold accents: either spelling finds both customers.
        for query in ["zoë ångström", "ZOË\tÅNGSTRÖM", "zoe angstrom"] {
            #expect(try await vault.findCustomers(field: "name", equalTo: query).map(\.id) == [id, plain], "name = \(query)")
        }
        #expect(try await vault.findCustomers(field: "email", equalTo: "zoe.c@example.com").isEmpty)
        // A national number is searched for in the country given; with none it is refused, not guessed.
        #expect(try await vault.findCustomers(field: "phone", anyOf: ["020 7946 0123"], country: "GB")["020 7946 0123"]?.map(\.id) == [id])
        let national = await VaultError.caught { _ = try await vault.findCustomers(field: "phone", equalTo: "020 7946 0123") }
        #expect(national?.code == .invalidInput && national?.message.contains("international form") == true)
        let error = await VaultError.caught { _ = try await vault.findCustomers(field: "address", equalTo: "x") }
        #expect(error?.code == .invalidInput)
    }

    @Test("names: Turkish I, ß, full-width forms, zero-width characters and accents fold alike for search and duplicates; nothing else matches")
    func foldedNames() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let stored: [(name: String, queries: [String])] = [
            ("Clémence Dupont", ["clemence dupont", "CLEMENCE DUPONT", "Cle\u{301}mence Dupont", "Clé\u{200B}mence\u{00A0}Dupont", "ｃｌｅｍｅｎｃｅ ｄｕｐｏｎｔ"]),
            ("İlkay Gündoğan", ["ilkay gundogan", "ILKAY GÜNDOĞAN", "ılkay gündoğan", "Ilkay Gundogan"]),
            ("Jürgen Straße", ["jurgen strasse", "JÜRGEN STRASSE", "Jürgen Strasse", "JURGEN STRAẞE"]),
            ("山田 太郎", ["山田\u{3000}太郎", "山田  太郎"]),
        ]
        var ids: [String: Int64] = [:]
        for (n, entry) in stored.enumerated() {
            ids[entry.name] = try await vault.addCustomer(["name": entry.name, "email": "folded\(n)@example.com"])
        }
        var tried = 0
        for entry in stored {
            let expected = try #require(ids[entry.name])
            for query in entry.queries + [entry.name] {
                #expect(try await vault.findCustomers(field: "name", equalTo: query).map(\.id) == [expected], "'\(query)' should find \(entry.name)")
                tried += 1
            }
        }
        #expect(tried == 19)
        // Near misses are not matches: folding removes marks and case, never letters.
        for miss in ["clemence dupond", "clemens dupont", "ilkay gundogan x", "jurgen strase", "山田 次郎", "clemencedupont"] {
            #expect(try await vault.findCustomers(field: "name", equalTo: miss).isEmpty, "'\(miss)' matched")
        }
        // Duplicate detection folds the same way but keeps accents: "JÜRGEN STRASSE" with the same birth date joins
        // "Jürgen Straße"; "Jurgen Strasse" (perhaps another person, from a system without accents) does not.
        let first = try await vault.addCustomer(["name": "Jürgen Straße", "email": "dup1@example.com", "birth_date": "1980-02-03"])
        let second = try await vault.addCustomer(["name": "JÜRGEN\u{200B} STRASSE", "email": "dup2@example.com", "birth_date": "1980-02-03"])
        let other = try await vault.addCustomer(["name": "Jurgen Strasse", "email": "dup3@example.com", "birth_date": "1980-02-03"])
        let groups = try await vault.findDuplicates()
        #expect(groups.contains { Set($0.customers) == [first, second] && $0.links.contains("name+birth_date") }, "\(groups)")
        #expect(!groups.contains { $0.customers.contains(other) }, "\(groups)")
    }

    @Test("with an index so short that most values collide, results still contain no false positives")
    func collisionsAreFiltered() async throws {
        let directory = try TemporaryDirectory()
        let yaml = Schema.defaultYAML.replacingOccurrences(of: "normalize: name, index_bits: 16", with: "normalize: name, index_bits: 8")
        let vault = try await Fixtures.vault(in: directory, schema: try Schema.load(yaml: yaml))
        var ids: [String: Int64] = [:]
        for n in 0..<600 {
            ids["Person \(n)"] = try await vault.addCustomer(["name": "Person \(n)", "email": "p\(n)@example.com"])
        }
        // 600 names in 256 buckets: most index values are shared by several customers.
        let shared = try vault.liveFile.sharedBlindIndexDigests(field: "name")
        #expect(shared > 100)
        let names = (0..<600).map { "PERSON \($0)" }
        let results = try await vault.findCustomers(field: "name", anyOf: names)
        var exact = 0
        for (query, records) in results where records.map(\.id) == [ids[query.capitalized]] { exact += 1 }
        #expect(exact == 600, "\(exact) of 600 searches returned exactly the one right customer")
    }

    @Test("a value given twice in one lookup lists each match once")
    func repeatedValues() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let ada = try await vault.addCustomer(["name": "Ada Lovelace", "email": "ada@example.com"])
        let grace = try await vault.addCustomer(["name": "Grace Hopper", "email": "grace@example.com"])
        let results = try await vault.findCustomers(field: "email", anyOf: ["ada@example.com", "grace@example.com", "ada@example.com"])
        #expect(results["ada@example.com"]?.map(\.id) == [ada])
        #expect(results["grace@example.com"]?.map(\.id) == [grace])
        // Two spellings of one address are two values, each with its one match.
        let spellings = try await vault.findCustomers(field: "email", anyOf: ["ada@example.com", "ADA@example.com"])
        #expect(spellings["ADA@example.com"]?.map(\.id) == [ada])
        #expect(spellings["ada@example.com"]?.map(\.id) == [ada])
    }

    @Test("an update moves the customer's index entries; a delete removes them")
    func indexesFollowChanges() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let id = try await vault.addCustomer(["name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 20 7946 0001"])
        try await vault.updateCustomer(id, set: ["email": "ada.l@example.com", "name": "Ada King"], remove: ["phone"])
        #expect(try await vault.findCustomers(field: "email", equalTo: "ada@example.com").isEmpty)
        #expect(try await vault.findCustomers(field: "email", equalTo: "ada.l@example.com").map(\.id) == [id])
        #expect(try await vault.findCustomers(field: "name", equalTo: "Ada Lovelace").isEmpty)
        #expect(try await vault.findCustomers(field: "phone", equalTo: "+44 20 7946 0001").isEmpty)
        #expect(try await vault.customer(id).fields["phone"] == nil)
        // The old e-mail is free again.
        _ = try await vault.addCustomer(["name": "Other", "email": "ada@example.com"])
        try await vault.deleteCustomer(id)
        #expect(try await vault.findCustomers(field: "email", equalTo: "ada.l@example.com").isEmpty)
        let file = try vault.liveFile
        let leftovers = try file.count("blind_indexes", where: ["customer_id": .is(id)]) + file.count("unique_indexes", where: ["customer_id": .is(id)])
            + file.count("sealed_values", where: ["entity": "customers", "record_id": .is(id)])
        #expect(leftovers == 0)
        let missing = await VaultError.caught { try await vault.deleteCustomer(id) }
        #expect(missing?.code == .notFound)
    }

    @Test("every access is in the access log, hash-chained and signed; no personal value in it")
    func accessLogged() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        let id = try await vault.addCustomer(["name": "Canary Logname", "email": "canary.log@example.com"])
        _ = try await vault.customer(id)
        _ = try await vault.findCustomers(field: "email", equalTo: "canary.log@example.com")
        _ = await VaultError.caught { _ = try await vault.customer(999) }
        let rows = try vault.liveFile.rows("audit_log", orderBy: ["seq"])
        #expect(rows.map { $0["action"].text } == ["vault.init", "customer.create", "customer.read", "customer.search", "customer.read"])
        #expect(rows.map { $0["outcome"].text } == ["allowed", "allowed", "allowed", "allowed", "failed"])
        var previous = try AuditChain.genesisHash(vaultID: vault.vaultIDBytes)
        for row in rows {
            #expect(row["prev_hash"].bytes == previous)
            previous = try #require(row["hash"].bytes)
            for column in row.columns {
                if case .text(let text) = row[column] {
                    #expect(!text.lowercased().contains("canary"), "audit column \(column) holds a personal value")
                }
            }
        }
    }

    @Test("a batch lookup of 2,500 values is one access-log entry per 1,000 values, with the digest of every value")
    func batchLookupAudited() async throws {
        let directory = try TemporaryDirectory()
        let vault = try await Fixtures.vault(in: directory)
        for n in 0..<5 { _ = try await vault.addCustomer(Fixtures.customer(n)) }
        let values = (0..<2_500).map { "person\($0)@example.com" }
        func searches() throws -> [String] {
            try VaultFileInspector(vault.path).values("terms", in: "audit_log", where: ["action": "customer.search"], orderBy: ["seq"]).map { try #require($0.text) }
        }
        let before = try searches().count
        let found = try await vault.findCustomers(field: "email", anyOf: values)
        #expect(found.values.filter { !$0.isEmpty }.count == 5)
        let entries = try searches().dropFirst(before)
        #expect(entries.count == 3)
        #expect(entries.map { $0.split(separator: ",").count } == [1_000, 1_000, 500], "every value's digest is in the log")
    }
}
