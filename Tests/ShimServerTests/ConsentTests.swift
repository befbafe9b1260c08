import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimTesting
import Testing

/// GET/POST /consent: rule 4 in `always` mode.
@Suite("Consent page and decision (rule 4)")
struct ConsentTests {
    /// Registers a client and opens its consent page in `browser`.
    static func openConsent(_ client: ShimClient, browser: inout Browser, app: TestApp? = nil) async throws -> (TestApp, AuthorizeParams, ConsentForm)
    {
        let app = try await app.asyncOr { try await client.register(name: "Friendly <b>Client</b>") }
        let params = AuthorizeParams(app: app)
        let first = try await client.authorize(params, browser: &browser)
        #expect(first.status == .seeOther)
        let form = try await client.consentPage(try #require(first.location), browser: browser)
        return (app, params, form)
    }

    // Rule 4: the page names client, redirect host and scopes; cannot be framed (RFC 6749 §10.13).
    @Test("the consent page shows who asks and where the code goes, and forbids framing")
    func consentPageContentAndHeaders() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            var browser = Browser()
            let app = try await client.register(name: "Friendly <b>Client</b>")
            let first = try await client.authorize(AuthorizeParams(app: app), browser: &browser)
            // The binding cookie: __Host-, Secure, HttpOnly, SameSite=Lax, Path=/.
            let setCookie = try #require(first.headers[values: .setCookie].first { $0.hasPrefix("__Host-dcr-shim-browser=") })
            let attributes = setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            #expect(attributes.contains("secure"))
            #expect(attributes.contains("httponly"))
            #expect(attributes.contains("samesite=lax"))
            #expect(attributes.contains("path=/"))
            #expect(!attributes.contains { $0.hasPrefix("domain=") })

            let form = try await client.consentPage(try #require(first.location), browser: browser)
            let headers = form.page.headers
            #expect(headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(headers[.cacheControl] == "no-store")
            let html = form.page.text
            #expect(html.contains("Friendly &lt;b&gt;Client&lt;/b&gt;"))
            #expect(!html.contains("<b>Client</b>"))
            #expect(html.contains("127.0.0.1"))
            #expect(html.contains("mcp.read"))
            #expect(html.contains(#"<form method="post" action="\#(ShimHarness.issuer)/consent">"#))
        }
    }

    @Test("a consent POST with a forged CSRF token is refused with 403", arguments: ["forged", "abc.def", ""])
    func badCSRF(token: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            var browser = Browser()
            let (_, _, form) = try await Self.openConsent(client, browser: &browser)
            let response = try await client.decide(form, browser: browser, csrfToken: token)
            #expect(response.status == (token.isEmpty ? .badRequest : .forbidden))
            #expect(response.location == nil)
            #expect(harness.upstream.state.current.authorizations.isEmpty)
            // The request is still pending: the real page's token still works.
            #expect(try await client.decide(form, browser: browser).status == .seeOther)
        }
    }

    // Rule 4: the CSRF token is bound to the browser that rendered the page.
    @Test("a CSRF token from another browser's consent page does not work")
    func csrfFromAnotherBrowser() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            var victim = Browser()
            var attacker = Browser()
            let (app, _, victimForm) = try await Self.openConsent(client, browser: &victim)
            let (_, _, attackerForm) = try await Self.openConsent(client, browser: &attacker, app: app)
            #expect(victim.cookie != attacker.cookie)
            // The attacker's token, for the victim's request, posted from the victim's browser.
            let forged = try await client.decide(victimForm, browser: victim, csrfToken: attackerForm.csrfToken)
            #expect(forged.status == .forbidden)
            #expect(forged.location == nil)
            // The victim's request posted from the attacker's browser (with the victim's token).
            let stolen = try await client.decide(victimForm, browser: attacker)
            #expect(stolen.status.code >= 400 && stolen.status.code < 500)
            #expect(stolen.location == nil)
            // The attacker cannot even render the victim's page.
            let page = try await client.get("/consent?request_id=" + victimForm.requestID, headers: attacker.headers)
            #expect(page.status == .badRequest)
            #expect(harness.upstream.state.current.authorizations.isEmpty)
        }
    }

    @Test("rendering the consent page again does not invalidate the first page's token")
    func repeatedGetKeepsFirstToken() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            var browser = Browser()
            let (_, _, first) = try await Self.openConsent(client, browser: &browser)
            let again = try await client.consentPage("/consent?request_id=" + first.requestID, browser: browser)
            #expect(again.csrfToken != first.csrfToken)
            let response = try await client.decide(first, browser: browser)
            #expect(response.status == .seeOther)
            #expect(response.location?.hasPrefix(FakeUpstream.authorizeEndpoint) == true)
            // The decision consumed the request: a second POST is refused, not redirected.
            let replay = try await client.decide(again, browser: browser)
            #expect(replay.status == .badRequest)
            #expect(replay.location == nil)
        }
    }

    // RFC 6749 §4.1.2.1 `access_denied`, with state and RFC 9207 iss; 303 after a POST.
    @Test("Deny sends the browser back to the client with access_denied, state and iss")
    func denyRedirects() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            var browser = Browser()
            let (app, params, form) = try await Self.openConsent(client, browser: &browser)
            let response = try await client.decide(form, decision: "deny", browser: browser)
            #expect(response.status == .seeOther)
            #expect(response.location?.hasPrefix(app.redirectURI + "?") == true)
            let query = response.redirectParams
            #expect(query["error"] == "access_denied")
            #expect(query["state"] == params.state)
            #expect(query["iss"] == ShimHarness.issuer)
            #expect(harness.upstream.state.current.authorizations.isEmpty)
        }
    }

    @Test("the consent page needs the browser that asked: no cookie means no page")
    func consentPageWithoutCookie() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            var browser = Browser()
            let (_, _, form) = try await Self.openConsent(client, browser: &browser)
            let page = try await client.get("/consent?request_id=" + form.requestID)
            #expect(page.status == .badRequest)
            #expect(page.location == nil)
            var cookieless = browser
            cookieless.cookie = nil
            let post = try await client.decide(form, browser: cookieless)
            #expect(post.status.code >= 400 && post.status.code < 500)
            #expect(post.location == nil)
        }
    }

    // Rule 5 (≤ 10 min) applies to the pending consent too.
    @Test("a consent page left open past 10 minutes cannot be submitted")
    func consentExpires() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            var browser = Browser()
            let (_, _, form) = try await Self.openConsent(client, browser: &browser)
            harness.clock.advance(by: 601)
            let response = try await client.decide(form, browser: browser)
            #expect(response.status == .badRequest)
            #expect(response.location == nil)
        }
    }

    // Rule 4: a CSRF token is per rendered page, i.e. per request, not per browser.
    @Test("a CSRF token of one consent page does not approve another request of the same browser")
    func csrfBoundToRequest() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            var browser = Browser()
            let (app, _, first) = try await Self.openConsent(client, browser: &browser)
            let (_, _, second) = try await Self.openConsent(client, browser: &browser, app: app)
            let swapped = try await client.decide(second, browser: browser, csrfToken: first.csrfToken)
            #expect(swapped.status == .forbidden)
            #expect(swapped.location == nil)
        }
    }
}
