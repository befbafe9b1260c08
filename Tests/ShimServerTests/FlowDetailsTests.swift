import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimTesting
import Testing

/// Details of the authorization response and token issuance that clients depend on.
@Suite("Flow details: state, redirect_uri query, optional refresh tokens")
struct FlowDetailsTests {
    static let awkwardState = "a b+c&d=e%f/g?h#i é ✓ " + String(repeating: "z", count: 200)

    // RFC 6749 §4.1.2: state is returned as "the exact value received from the client".
    @Test("an awkward state comes back byte for byte, on success and on error")
    func stateRoundTrip() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var params = AuthorizeParams(app: app)
            params.state = Self.awkwardState
            var browser = Browser()
            let callback = try await client.authorizeThroughCallback(params, browser: &browser)
            #expect(callback.state == Self.awkwardState)

            var refused = params
            refused.method = "plain"
            let error = try await client.authorize(refused, browser: &browser)
            #expect(error.redirectParams["state"] == Self.awkwardState)
        }
    }

    // OAuth 2.1 §4.1.1: state is optional; none sent, none returned.
    @Test("without state the redirect carries code and iss only")
    func noState() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var params = AuthorizeParams(app: app)
            params.state = nil
            var browser = Browser()
            let callback = try await client.authorizeThroughCallback(params, browser: &browser)
            #expect(callback.response.redirectParams["state"] == nil)
            #expect(callback.iss == ShimHarness.issuer)
        }
    }

    // RFC 6749 §3.1.2: the query component "MUST be retained when adding additional query parameters".
    @Test("a redirect_uri with a query keeps it when the code is added")
    func redirectQueryRetained() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let redirect = "http://127.0.0.1:33418/callback?tenant=a%20b"
            let app = try await client.register(redirectURIs: [redirect])
            var browser = Browser()
            let callback = try await client.authorizeThroughCallback(AuthorizeParams(app: app), browser: &browser)
            let location = try #require(callback.response.location)
            #expect(location.hasPrefix(redirect + "&code="), "\(location)")
            #expect(callback.response.redirectParams["tenant"] == "a b")
            #expect(try await client.exchange(code: callback.code, app: app).status == .ok)
        }
    }

    // RFC 7591 §2 grant_types: a client that did not register refresh_token gets none.
    @Test("a client registered without the refresh_token grant gets no refresh token and cannot refresh")
    func noRefreshGrantRegistered() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register(grantTypes: ["authorization_code"])
            let signedIn = try await client.signIn(app)
            #expect(signedIn.refreshToken == nil)
            let refresh = try await client.refresh("anything", app: app)
            #expect(refresh.status == .badRequest)
            #expect(refresh.oauthError == "unauthorized_client")
        }
    }

    // The client gets a shim refresh token only when there is an upstream one behind it.
    @Test("without an upstream refresh token the client gets no refresh token")
    func noUpstreamRefreshToken() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.omitRefreshToken = true }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            #expect(signedIn.refreshToken == nil)
            #expect(signedIn.accessToken == harness.upstream.state.current.issuedAccessTokens.last)
        }
    }

    // RFC 6749 §4.1.2: the code is bound to the client; the shim's code is not the IdP's.
    @Test("the client's code is the shim's own, not the IdP's")
    func codeIsTheShims() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            #expect(!harness.upstream.state.current.exchangedCodes.contains(signedIn.code))
            #expect(signedIn.code.count >= 43)
        }
    }
}
