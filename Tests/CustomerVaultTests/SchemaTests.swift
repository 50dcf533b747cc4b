import Foundation
import Testing
@testable import CustomerVault
import VaultCore

@Suite("Schema file")
struct SchemaTests {
    @Test("the embedded default schema is policies/schema.yaml, byte for byte")
    func embeddedDefaultMatchesShippedFile() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../policies/schema.yaml")
        let shipped = try String(contentsOf: url, encoding: .utf8)
        #expect(shipped.trimmingCharacters(in: .newlines) == Schema.defaultYAML.trimmingCharacters(in: .newlines))
    }

    @Test("the default schema classifies CRM fields as the issue requires")
    func defaultSchemaShape() throws {
        let schema = try Schema.shippedDefault()
        for name in ["name", "email", "phone", "address", "age", "birth_date", "gender"] {
            #expect(schema.field(.customers, name)?.isPersonal == true, "\(name) must be personal")
        }
        #expect(schema.field(.customers, "region")?.isPersonal == false)
        #expect(schema.field(.interactions, "summary")?.isPersonal == true)
        #expect(schema.field(.transactions, "amount")?.isPersonal == false)
        #expect(schema.field(.transactions, "payment_method")?.isPersonal == false)
        #expect(Set(schema.searchableFields.map(\.name)) == ["name", "email", "phone"])
        #expect(schema.field(.customers, "email")?.search?.indexBits == 128)
    }

    @Test("a custom field is added by the schema alone")
    func customField() throws {
        let yaml = Schema.defaultYAML.replacingOccurrences(
            of: "  # tax_id:", with: "  tax_id: { class: personal, type: text, max_length: 20, pattern: \"^[A-Z0-9]{6,20}$\" }\n  # x:")
        let schema = try Schema.load(yaml: yaml)
        #expect(schema.field(.customers, "tax_id")?.isPersonal == true)
        #expect(schema.field(.customers, "tax_id")?.pattern != nil)
    }

    @Test("an invalid pattern is refused from a file; a stored schema loaded without the check refuses every value of that field")
    func invalidPatternFailsClosed() throws {
        let yaml = Schema.defaultYAML.replacingOccurrences(
            of: "  # tax_id:", with: "  tax_id: { class: personal, type: text, max_length: 20, pattern: \"^[A-Z(\" }\n  # x:")
        #expect(throws: VaultError.self) { try Schema.load(yaml: yaml) }
        let unchecked = try Schema.load(yaml: yaml, checkingPatterns: false)
        let field = try #require(unchecked.field(.customers, "tax_id"))
        let validator = FieldValidator(schema: unchecked)
        #expect(throws: FieldProblem.self) { try validator.canonical("ABC123", for: field) }
        // The same value passes a valid pattern, so the refusal above is the pattern's doing.
        let valid = try Schema.load(yaml: yaml.replacingOccurrences(of: "^[A-Z(", with: "^[A-Z0-9]{6,20}$"), checkingPatterns: false)
        #expect(try FieldValidator(schema: valid).canonical("ABC123", for: try #require(valid.field(.customers, "tax_id"))) == "ABC123")
    }

    @Test("malformed schema files are refused with the line of the problem", arguments: [
        ("format: 1\ncustomers:\n  email: { class: personal, type: email, unique: true, search: { normalize: email } }\n  bad: { class: secret, type: text }\ntransactions: {}\ninteractions: {}\n", 4),
        ("format: 1\ncustomers:\n  email: { class: personal, type: email, unique: true, search: { normalize: email } }\n  x: { class: plain, type: text, colour: red }\ntransactions: {}\ninteractions: {}\n", 4),
        ("format: 1\ncustomers:\n  email: { class: personal, type: email, unique: true, search: { normalize: email } }\n  x: { class: plain, type: wibble }\ntransactions: {}\ninteractions: {}\n", 4),
        ("format: 1\ncustomers:\n  email: { class: personal, type: email, unique: true, search: { normalize: email } }\n  x: { class: personal, type: text, search: { normalize: name } }\ntransactions: {}\ninteractions: {}\n", 4),
        ("format: 1\ncustomers:\n  email: { class: personal, type: email, unique: true, search: { normalize: email } }\n  x: { class: personal, type: text, max_length: 999999 }\ntransactions: {}\ninteractions: {}\n", 4),
        ("format: 2\ncustomers: {}\n", 1),
        ("format: 1\ncustomers:\n  email: { class: personal, type: email, unique: true, search: { normalize: email } }\n  email: { class: plain, type: text }\n", 3),
        ("format: 1\nfoo: 1\n", 2),
        ("format: 1\ncustomers: &a\n  x: *a\n", 3),
        ("format: 1\ncustomers: [unclosed\n", 3),
    ])
    func malformed(yaml: String, line: Int) throws {
        let error = #expect(throws: VaultError.self) { try Schema.load(yaml: yaml, fileName: "s.yaml") }
        #expect(error?.code == .invalidInput)
        #expect(error?.message.hasPrefix("s.yaml:\(line): ") == true,
                "expected line \(line) in: \(error?.message ?? "")")
    }

    @Test("deep nesting and huge files are refused without crashing")
    func hostileSizes() throws {
        let deep = "format: 1\nx: " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "\n"
        #expect(throws: VaultError.self) { try Schema.load(yaml: deep) }
        let huge = "format: 1\n# " + String(repeating: "a", count: 1 << 21) + "\n"
        #expect(throws: VaultError.self) { try Schema.load(yaml: huge) }
    }
}
