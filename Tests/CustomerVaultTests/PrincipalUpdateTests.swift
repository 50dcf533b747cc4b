import Foundation
import Testing
@testable import CustomerVault

/// `updatePrincipal`: what an open handle of the changed principal may still do.
@Suite("Principal update")
struct PrincipalUpdateTests {
    @Test("a handle open while its principal's attributes change is refused at its next request, and a new one sees the new rows")
    func openHandleFollowsTheUpdate() async throws {
        let fixture = try await RoleFixture.make()
        let support = try await fixture.open("support", purpose: "support_ticket")
        #expect(try await support.listCustomers().map(\.id) == [fixture.euID])
        let update = try await fixture.admin.updatePrincipal("support", setting: ["regions": "EU,UK"])
        #expect(update.role == "support" && update.attributes == ["regions": "EU,UK"] && update.keysAdded == 0 && update.keysRemoved == 0)
        let stale = await VaultError.caught { _ = try await support.listCustomers() }
        #expect(stale?.code == .accessDenied && stale?.message.contains("open the vault again") == true, "\(stale?.message ?? "listed")")
        let fresh = try await fixture.open("support", purpose: "support_ticket")
        #expect(try await fresh.listCustomers().map(\.id) == [fixture.euID, fixture.ukID])
        // The access-log entry says what changed, values of attributes included (they are policy data, not personal).
        let entry = try #require(try await fixture.admin.auditLog(limit: 10_000).last { $0.action == VaultAction.principalsManage.rawValue && $0.target == "principal:support" })
        #expect(entry.detail.contains("attributes regions=EU → regions=EU,UK") && entry.detail.contains("identity "), "\(entry.detail)")
    }
}
