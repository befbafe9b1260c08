import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimTesting
import Testing

/// GET /authorize: rules 2 (redirect_uri), 3 (PKCE) and 8 (resource).
@Suite("Authorization endpoint: redirect_uri, PKCE, resource")
struct AuthorizeTests {
    // Rule 2 / RFC 6749 §4.1.2.1: "If the request fails due to a missing, invalid, or
    // mismatching redirection URI, or if the client identifier is missing or invalid,
    // the authorization server ... MUST NOT automatically redirect the user-agent".
    @Test("an unknown client gets a 400 page, no Location")
    func unknownClient() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            var params = AuthorizeParams(app: TestApp(clientID: "never-registered", redirectURIs: [ShimHarness.loopbackRedirect], authMethod: "none"))
            params.state = "s"
            var browser = Browser()
            let page = try await client.authorize(params, browser: &browser)
            #expect(page.status == .badRequest)
            #expect(page.location == nil)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let json = try await client.get(params.uri, headers: [.accept: "application/json"])
            #expect(json.status == .badRequest)
            #expect(json.location == nil)
            #expect(json.oauthError == "invalid_client")
        }
    }

    static let mismatches = [
        "http://127.0.0.1:33418/other",  // another path
        "http://localhost:33418/callback",  // another loopback host name
        "http://127.0.0.1:33418/callback?x=1",  // extra query
        "http://127.0.0.1:33418/callback/",  // trailing slash
        "https://127.0.0.1:33418/callback",  // another scheme
        "https://evil.example.com/callback",
        "http://127.0.0.1:33418/callback#frag",
    ]

    // Rule 2 / RFC 6749 §3.1.2.3: exact string match.
    @Test("a redirect_uri that is not registered gets a 400 page, no Location", arguments: mismatches)
    func mismatchedRedirect(redirect: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register(redirectURIs: [ShimHarness.loopbackRedirect])
            var params = AuthorizeParams(app: app)
            params.redirectURI = redirect
            var browser = Browser()
            let response = try await client.authorize(params, browser: &browser)
            #expect(response.status == .badRequest)
            #expect(response.location == nil)
        }
    }

    @Test("a missing redirect_uri gets a 400 page, no Location")
    func missingRedirect() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var params = AuthorizeParams(app: app)
            params.redirectURI = nil
            var browser = Browser()
            let response = try await client.authorize(params, browser: &browser)
            #expect(response.status == .badRequest)
            #expect(response.location == nil)
        }
    }

    // Rule 2 / RFC 8252 §7.3: "The authorization server MUST allow any port to be specified
    // at the time of the request for loopback IP redirect URIs".
    @Test("a loopback redirect_uri may change its port", arguments: ["http://127.0.0.1:51234/callback", "http://127.0.0.1/callback"])
    func loopbackPortVariance(redirect: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register(redirectURIs: [ShimHarness.loopbackRedirect])
            var params = AuthorizeParams(app: app)
            params.redirectURI = redirect
            var browser = Browser()
            let callback = try await client.authorizeThroughCallback(params, browser: &browser)
            #expect(callback.response.location?.hasPrefix(redirect + "?") == true)
            // RFC 6749 §4.1.3: the same redirect_uri at /token.
            let token = try await client.exchange(code: callback.code, app: app, redirectURI: redirect)
            #expect(token.status == .ok, "\(token.text)")
        }
    }

    /// Requests refused after the redirect_uri is trusted: the error goes back to it.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var change: @Sendable (inout AuthorizeParams) -> Void
        var error: String
        init(_ name: String, _ change: @escaping @Sendable (inout AuthorizeParams) -> Void, _ error: String) {
            (self.name, self.change, self.error) = (name, change, error)
        }
        var testDescription: String { name }
    }

    static let redirectedErrors: [Refusal] = [
        // Rule 3 / OAuth 2.1 §4.1.1: PKCE is required ...
        Refusal(
            "missing code_challenge",
            {
                $0.codeChallenge = nil
                $0.method = nil
            }, "invalid_request"),
        Refusal("missing code_challenge, S256 method", { $0.codeChallenge = nil }, "invalid_request"),
        // ... S256 only; RFC 7636 §4.3: an absent method means plain.
        Refusal(
            "plain method",
            {
                $0.codeChallenge = RFC7636.verifier
                $0.method = "plain"
            }, "invalid_request"),
        Refusal("method absent (plain)", { $0.method = nil }, "invalid_request"),
        Refusal("challenge not S256-shaped", { $0.codeChallenge = "short" }, "invalid_request"),
        // RFC 6749 §4.1.1 / OAuth 2.1: response_type=code only.
        Refusal("implicit response_type", { $0.responseType = "token" }, "unsupported_response_type"),
        Refusal("missing response_type", { $0.responseType = nil }, "invalid_request"),
        // Rule 8 / RFC 8707 §2: an unknown resource is `invalid_target`.
        Refusal("unknown resource", { $0.resource = "https://other.example.com/mcp" }, "invalid_target"),
        Refusal("resource with another path", { $0.resource = ShimHarness.resource + "/admin" }, "invalid_target"),
        Refusal("scope not offered", { $0.scope = "admin" }, "invalid_scope"),
    ]

    // RFC 6749 §4.1.2.1 error response with `state`, and RFC 9207 `iss`.
    @Test("a refused request goes back to the redirect_uri with error, state and iss", arguments: redirectedErrors)
    func redirectedError(refusal: Refusal) async throws {
        let (name, change, error) = (refusal.name, refusal.change, refusal.error)
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var params = AuthorizeParams(app: app)
            change(&params)
            var browser = Browser()
            let response = try await client.authorize(params, browser: &browser)
            #expect(response.status == .found, "\(name): \(response.status) \(response.text)")
            let location = try #require(response.location, "\(name)")
            #expect(location.hasPrefix(app.redirectURI + "?"), "\(name)")
            let query = response.redirectParams
            #expect(query["error"] == error, "\(name): \(location)")
            #expect(query["state"] == params.state, "\(name)")
            #expect(query["iss"] == ShimHarness.issuer, "\(name)")
            #expect(query["code"] == nil)
            #expect(harness.upstream.state.current.authorizations.isEmpty, "\(name): nothing may reach the IdP")
        }
    }
}
