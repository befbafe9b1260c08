import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimTesting
import Testing

/// GET /callback: rule 5 (transactions) and what the shim does when the IdP fails.
@Suite("Callback: upstream transactions (rule 5) and IdP failures")
struct CallbackTests {
    /// Register, authorize and consent: the browser is now at the IdP.
    static func atIdP(_ client: ShimClient) async throws -> (app: TestApp, params: AuthorizeParams, browser: Browser, upstreamURL: String) {
        let app = try await client.register()
        var browser = Browser()
        let params = AuthorizeParams(app: app)
        let url = try await client.toUpstream(params, browser: &browser)
        return (app, params, browser, url)
    }

    static func expectErrorPage(_ response: TestResponse, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .badRequest, comment, sourceLocation: sourceLocation)
        #expect(response.location == nil, comment, sourceLocation: sourceLocation)
    }

    // Rule 5 / RFC 6749 §10.12: the state binds the callback to a transaction the shim started.
    @Test("a tampered or unknown state gets a 400 page, no Location")
    func tamperedState() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (_, _, browser, url) = try await Self.atIdP(client)
            let realState = try #require(try URLQuery.parse(url)["state"])
            let tampered = String(realState.dropLast()) + (realState.hasSuffix("A") ? "B" : "A")
            Self.expectErrorPage(try await client.callback(from: url, browser: browser, state: tampered))
            Self.expectErrorPage(try await client.get("/callback?code=x", headers: browser.headers), "no state")
            #expect(harness.upstream.state.current.exchangedCodes.isEmpty)
        }
    }

    // Rule 5: bound to the browser that consented (login CSRF / session fixation, RFC 9700 §4.7).
    @Test("a callback without the binding cookie gets a 400 page, no Location")
    func callbackWithoutCookie() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (_, _, browser, url) = try await Self.atIdP(client)
            var cookieless = browser
            cookieless.cookie = nil
            Self.expectErrorPage(try await client.callback(from: url, browser: cookieless))
            #expect(harness.upstream.state.current.exchangedCodes.isEmpty)
        }
    }

    @Test("a callback with another browser's cookie gets a 400 page, no Location")
    func callbackWithAnotherBrowsersCookie() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, _, _, victimURL) = try await Self.atIdP(client)
            // The attacker has a valid cookie of its own (from its own authorize).
            var attacker = Browser()
            _ = try await client.authorize(AuthorizeParams(app: app), browser: &attacker)
            #expect(attacker.cookie != nil)
            Self.expectErrorPage(try await client.callback(from: victimURL, browser: attacker))
            // A forged cookie value fares no better.
            var forged = attacker
            forged.cookie = "__Host-dcr-shim-browser=forged.signature"
            let (_, _, _, url2) = try await Self.atIdP(client)
            Self.expectErrorPage(try await client.callback(from: url2, browser: forged))
            #expect(harness.upstream.state.current.exchangedCodes.isEmpty)
        }
    }

    @Test("a transaction is single use: the second callback gets a 400 page")
    func transactionSingleUse() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (_, _, browser, url) = try await Self.atIdP(client)
            let first = try await client.callback(from: url, browser: browser)
            #expect(first.status == .found)
            Self.expectErrorPage(try await client.callback(from: url, browser: browser))
            #expect(harness.upstream.state.current.exchangedCodes.count == 1)
        }
    }

    // Rule 5: transactions live at most 10 minutes.
    @Test("a transaction expires after 10 minutes", arguments: [(599.0, true), (601.0, false)])
    func transactionExpiry(elapsed: Double, works: Bool) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (_, _, browser, url) = try await Self.atIdP(client)
            harness.clock.advance(by: elapsed)
            let response = try await client.callback(from: url, browser: browser)
            if works {
                #expect(response.status == .found)
            } else {
                Self.expectErrorPage(response)
            }
        }
    }

    // RFC 6749 §4.1.2.1: `temporarily_unavailable`, with state and RFC 9207 iss.
    @Test("the IdP unavailable at code exchange: error redirect to the client with state and iss")
    func upstreamUnavailableAtExchange() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.exchangeFailure = FakeUpstream.unavailable }
        try await harness.run { client async throws in
            let (app, params, browser, url) = try await Self.atIdP(client)
            let response = try await client.callback(from: url, browser: browser)
            #expect(response.status == .found)
            #expect(response.location?.hasPrefix(app.redirectURI + "?") == true)
            let query = response.redirectParams
            #expect(query["error"] == "temporarily_unavailable")
            #expect(query["state"] == params.state)
            #expect(query["iss"] == ShimHarness.issuer)
            #expect(query["code"] == nil)
        }
    }

    @Test(
        "the IdP refusing the code exchange: an error redirect, never a code",
        arguments: [
            FakeUpstream.invalidGrant,
            OAuthError(.serverError, "the identity provider refused the shim's request", detail: "upstream 401 invalid_client", status: 502),
        ])
    func upstreamRefusesExchange(error: OAuthError) async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.exchangeFailure = error }
        try await harness.run { client async throws in
            let (app, params, browser, url) = try await Self.atIdP(client)
            let response = try await client.callback(from: url, browser: browser)
            #expect(response.status == .found)
            #expect(response.location?.hasPrefix(app.redirectURI + "?") == true)
            #expect(response.redirectParams["error"] != nil)
            #expect(response.redirectParams["state"] == params.state)
            #expect(response.redirectParams["code"] == nil)
        }
    }

    // RFC 6749 §4.1.2.1: the IdP's own `error` on the callback goes back to the client.
    @Test("the user cancels at the IdP: access_denied to the client with state and iss")
    func upstreamAccessDenied() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, params, browser, url) = try await Self.atIdP(client)
            let state = try #require(try URLQuery.parse(url)["state"])
            let response = try await client.get(
                "/callback?" + FormEncoding.encode([("error", "access_denied"), ("state", state)]),
                headers: browser.headers)
            #expect(response.status == .found)
            #expect(response.location?.hasPrefix(app.redirectURI + "?") == true)
            #expect(response.redirectParams["error"] == "access_denied")
            #expect(response.redirectParams["state"] == params.state)
            #expect(response.redirectParams["iss"] == ShimHarness.issuer)
        }
    }

    // OIDC Core §3.1.3.7 step 11: the ID token's nonce must be the one sent.
    @Test("an ID token with another nonce is refused: no code for the client")
    func nonceMismatch() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.nonceOverride = "someone-elses-nonce" }
        try await harness.run { client async throws in
            let (_, params, browser, url) = try await Self.atIdP(client)
            let response = try await client.callback(from: url, browser: browser)
            #expect(response.status == .found)
            #expect(response.redirectParams["error"] == "access_denied")
            #expect(response.redirectParams["state"] == params.state)
            #expect(response.redirectParams["code"] == nil)
        }
    }
}
