import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimTesting
import Testing

/// Rule 4 in `consent.mode: remember`: consent per (browser, client_id, redirect_uri),
/// shown again when the redirect_uri or requested scopes change, and only skipped on
/// a navigation the browser marks as direct (`Sec-Fetch-Site`).
@Suite("Remembered consent (rule 4, remember mode)")
struct RememberedConsentTests {
    static let secondRedirect = "http://127.0.0.1:33418/other-callback"

    enum Variation: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sameEverything, sameOriginNavigation, narrowerScope
        case differentClient, differentRedirect, widerScope, missingSecFetchSite, crossSite, differentBrowser, afterDeny

        var testDescription: String { rawValue }

        /// Whether the second authorize may skip the consent page.
        var silent: Bool { [.sameEverything, .sameOriginNavigation, .narrowerScope].contains(self) }
    }

    @Test("a second authorize skips consent only when nothing that matters changed", arguments: Variation.allCases)
    func secondAuthorize(variation: Variation) async throws {
        let harness = try ShimHarness(consent: "remember")
        try await harness.run { client async throws in
            let app = try await client.register(redirectURIs: [ShimHarness.loopbackRedirect, Self.secondRedirect])
            var browser = Browser(secFetchSite: "none")
            var first = AuthorizeParams(app: app)
            first.scope = variation == .narrowerScope ? "mcp.read mcp.write" : "mcp.read"
            if variation == .afterDeny {
                let start = try await client.authorize(first, browser: &browser)
                let form = try await client.consentPage(try #require(start.location), browser: browser)
                #expect(try await client.decide(form, decision: "deny", browser: browser).status == .seeOther)
            } else {
                _ = try await client.authorizeThroughCallback(first, browser: &browser)
            }

            var second = AuthorizeParams(app: app)
            second.scope = "mcp.read"
            switch variation {
            case .sameEverything, .narrowerScope, .afterDeny: break
            case .sameOriginNavigation: browser.secFetchSite = "same-origin"
            case .differentClient: second = AuthorizeParams(app: try await client.register(redirectURIs: [ShimHarness.loopbackRedirect]))
            case .differentRedirect: second.redirectURI = Self.secondRedirect
            case .widerScope: second.scope = "mcp.read mcp.write"
            case .missingSecFetchSite: browser.secFetchSite = nil
            case .crossSite: browser.secFetchSite = "cross-site"
            case .differentBrowser: browser = Browser(secFetchSite: "none")
            }
            let before = harness.upstream.state.current.authorizations.count
            let response = try await client.authorize(second, browser: &browser)
            let location = try #require(response.location)
            if variation.silent {
                #expect(response.status == .found)
                #expect(location.hasPrefix(FakeUpstream.authorizeEndpoint), "\(location)")
                // And the flow completes from there.
                let callback = try await client.callback(from: location, browser: browser)
                #expect(callback.status == .found)
                #expect(callback.redirectParams["code"] != nil)
            } else {
                #expect(response.status == .seeOther)
                #expect(location.hasPrefix(ShimHarness.issuer + "/consent?request_id="), "\(location)")
                #expect(harness.upstream.state.current.authorizations.count == before)
            }
        }
    }

    // Rule 4: in `always` mode the page is shown every time.
    @Test("always mode shows the consent page on every authorize")
    func alwaysModeAsksAgain() async throws {
        let harness = try ShimHarness(consent: "always")
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser(secFetchSite: "none")
            _ = try await client.authorizeThroughCallback(AuthorizeParams(app: app), browser: &browser)
            let again = try await client.authorize(AuthorizeParams(app: app), browser: &browser)
            #expect(again.status == .seeOther)
            #expect(again.location?.hasPrefix(ShimHarness.issuer + "/consent?request_id=") == true)
        }
    }
}
