import CustomerVault
import Foundation
import Testing

/// `cvault customer erase`, `customer export-subject`, `erasures` and their interplay with restore.
@Suite("cvault privacy commands")
struct PrivacyCommandTests {
    @Test("erase prints a receipt without personal data; a forced restore of an older backup erases the person again; export-subject writes one document")
    func eraseAndRestore() throws {
        let workspace = try Workspace()
        let cli = CLI(workspace: workspace, passphrase: nil)
        let admin = ["--key-file", workspace.path("admin.key")]
        #expect(try cli.run(["init", "--key-file-out", workspace.path("admin.key")]).status == 0)
        let csv = try workspace.write("inputs/c.csv", """
            name,email,phone,address,region
            Wyxcanary Dunmore,wyxcanary@example.com,+44 20 7946 0777,1 Wyx Road,EU
            Other Person,other@example.com,+44 20 7946 0778,2 Other Road,EU

            """)
        #expect(try cli.run(["import", "customers", csv] + admin).status == 0)
        #expect(try cli.run(["principal", "add", "dora", "--role", "dpo", "--key-file-out", workspace.path("dora.key")] + admin).status == 0)
        let dpo = ["--principal", "dora", "--key-file", workspace.path("dora.key"), "--purpose", "subject_request"]
        let before = workspace.path("before.cvbackup")
        #expect(try cli.run(["backup", "create", before] + admin).status == 0)

        #expect(try cli.run(["customer", "erase", "1"] + admin).status == 3, "the admin role may not erase")
        let erased = try cli.run(["customer", "erase", "1", "--reason", "request 17"] + dpo)
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(erased.stdout.contains("erasure receipt") && erased.stdout.contains("WAL cleared   yes"), "\(erased.stdout)")
        #expect(!erased.output.contains("Wyx") && !erased.output.contains("wyx"))
        #expect(try cli.run(["customer", "get", "1"] + admin).status == 5)
        #expect(try cli.run(["customer", "erase", "1"] + dpo).status == 1, "erasing twice is a conflict")

        let subject = workspace.path("subject-2.json")
        #expect(try cli.run(["customer", "export-subject", "2", "--output", subject] + dpo).status == 0)
        let document = try JSONDecoder.cli.decode(SubjectExport.self, from: Data(contentsOf: URL(fileURLWithPath: subject)))
        #expect(document.customer.fields["email"] == "other@example.com" && document.format == "cvault.subject-export.v1")
        #expect(!String(decoding: try Data(contentsOf: URL(fileURLWithPath: subject)), as: UTF8.self).contains("wyx"))
        let mode = (try FileManager.default.attributesOfItem(atPath: subject)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)

        // The vault is replaced by the backup taken before the erasure: the ledger erases again.
        let restored = try cli.run(["backup", "restore", before, "--to", cli.environment["CVAULT_VAULT"]!, "--force"] + admin)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("1 erasures re-applied"), "\(restored.stdout)")
        #expect(try cli.run(["customer", "get", "1"] + admin).status == 5)
        #expect(try cli.run(["customer", "find", "--email", "wyxcanary@example.com"] + admin).status == 5)
        let ledger = workspace.path("ledger.jsonl")
        #expect(try cli.run(["erasures", "export", "--output", ledger] + admin).status == 0)
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: ledger)), as: UTF8.self).split(separator: "\n").count == 1)
        #expect(try cli.run(["audit", "verify"]).status == 0)
    }
}
