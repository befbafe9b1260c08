import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimStorage
import Testing

/// Rule 1 again: the redirect allowlist is checked again at
/// /authorize, so an operator who removes a URI or a bundle from
/// `redirects.*` stops clients that registered before the change.
@Suite("Rule 1 at /authorize: the allowlist as configured now")
struct AllowlistChangeTests {
    static func redirects(clients: [String], allow: [String]) -> [String: ConfigValue] {
        ["redirects": .map(["clients": .list(clients.map(ConfigValue.string)), "allow": .list(allow.map(ConfigValue.string))])]
    }

    /// Registers under the first configuration, then asks /authorize of a
    /// shim on the same store with the second.
    static func authorizeAfterChange(
        registeredWith before: [String: ConfigValue], redirect: String,
        servedWith after: [String: ConfigValue]
    ) async throws -> TestResponse {
        let store = MemoryStore()
        let old = try ShimHarness(overrides: before, store: store)
        let app = try await old.run { client in try await client.register(redirectURIs: [redirect]) }
        let new = try ShimHarness(overrides: after, store: store)
        return try await new.run { client in
            var browser = Browser()
            return try await client.authorize(AuthorizeParams(app: app), browser: &browser)
        }
    }

    @Test("an exact URI removed from redirects.allow: a 400 page, no Location")
    func exactURIRemoved() async throws {
        let page = try await Self.authorizeAfterChange(
            registeredWith: Self.redirects(clients: ["loopback"], allow: [ShimHarness.allowedHTTPS]), redirect: ShimHarness.allowedHTTPS,
            servedWith: Self.redirects(clients: ["loopback"], allow: []))
        #expect(page.status == .badRequest)
        #expect(page.location == nil)
        #expect(page.text.contains("no longer allowed"))
    }

    @Test("a bundle removed from redirects.clients: a 400 page, no Location")
    func bundleRemoved() async throws {
        let page = try await Self.authorizeAfterChange(
            registeredWith: Self.redirects(clients: ["loopback", "claude"], allow: []), redirect: "https://claude.ai/api/mcp/auth_callback",
            servedWith: Self.redirects(clients: ["loopback"], allow: []))
        #expect(page.status == .badRequest)
        #expect(page.location == nil)
        let loopback = try await Self.authorizeAfterChange(
            registeredWith: Self.redirects(clients: ["loopback"], allow: []), redirect: ShimHarness.loopbackRedirect,
            servedWith: Self.redirects(clients: [], allow: [ShimHarness.allowedHTTPS]))
        #expect(loopback.status == .badRequest)
        #expect(loopback.location == nil)
    }

    @Test("a URI still allowed goes on to consent as before")
    func stillAllowed() async throws {
        let page = try await Self.authorizeAfterChange(
            registeredWith: Self.redirects(clients: ["loopback"], allow: [ShimHarness.allowedHTTPS]), redirect: ShimHarness.allowedHTTPS,
            servedWith: Self.redirects(clients: [], allow: [ShimHarness.allowedHTTPS, "https://other.example.com/cb"]))
        #expect(page.status == .seeOther)
        #expect(page.location?.contains("/consent?") == true)
    }
}
