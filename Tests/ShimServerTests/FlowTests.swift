import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimTesting
import Testing

/// The whole flow (docs/endpoints.md) through the router, with the fake IdP.
@Suite("Full flow: register, authorize, consent, callback, token")
struct FlowTests {
    @Test("the flow ends in the IdP's access token and a shim refresh token", arguments: ["none", "client_secret_basic", "client_secret_post"])
    func fullFlow(authMethod: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let redirect = authMethod == "none" ? ShimHarness.loopbackRedirect : ShimHarness.allowedHTTPS
            let app = try await client.register(redirectURIs: [redirect], authMethod: authMethod)
            var browser = Browser()
            let params = AuthorizeParams(app: app)
            let callback = try await client.authorizeThroughCallback(params, browser: &browser)
            // RFC 6749 §4.1.2 and RFC 9207 §2: code, the client's state, and iss.
            #expect(callback.state == params.state)
            #expect(callback.iss == ShimHarness.issuer)
            #expect(callback.response.headers[.cacheControl] == "no-store")
            // RFC 9700 §4.2.4: the redirect carrying a code must not leak it through Referer.
            #expect(callback.response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")

            let response = try await client.exchange(code: callback.code, app: app)
            #expect(response.status == .ok, "\(response.text)")
            // Rule 9 / RFC 6749 §5.1: "Cache-Control: no-store".
            #expect(response.headers[.cacheControl] == "no-store")
            let upstream = harness.upstream.state.current
            let body = response.json
            // `tokens.access: upstream`: the client gets the IdP's access token ...
            #expect(body["access_token"] as? String == upstream.issuedAccessTokens.last)
            #expect(body["token_type"] as? String == "Bearer")
            #expect(body["scope"] as? String == "mcp.read")
            #expect(body["expires_in"] as? Int == 3600)
            // ... and the shim's own refresh token, never the IdP's.
            let refresh = try #require(body["refresh_token"] as? String)
            #expect(!upstream.issuedRefreshTokens.contains(refresh))
            #expect(!upstream.issuedRefreshTokens.contains { refresh.contains($0) || $0.contains(refresh) })
            #expect(body["id_token"] == nil)
        }
    }

    // Rule 3: the shim uses its own PKCE pair, state and nonce toward the IdP; the
    // client's redirect_uri and state never travel upstream (rule 5); resource is stripped (rule 8).
    @Test("the upstream authorization request carries only the shim's own values")
    func upstreamRequestIsTheShims() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser()
            let params = AuthorizeParams(app: app)
            let upstreamURL = try await client.toUpstream(params, browser: &browser)
            let query = try URLQuery.parse(upstreamURL)
            #expect(query["code_challenge"] != RFC7636.challenge)
            #expect(query["code_challenge_method"] == "S256")
            #expect(query["state"] != params.state)
            #expect((query["state"] ?? "").count >= 43)  // 256 bits, base64url
            #expect(query["nonce"] != nil)
            #expect(query["resource"] == nil)
            #expect(query["redirect_uri"] == ShimHarness.issuer + "/callback")
            #expect(!upstreamURL.contains(params.state!))
            #expect(!upstreamURL.contains("33418"))
            #expect(ScopeSet(query["scope"]).values.contains("mcp.read"))
            #expect(ScopeSet(query["scope"]).values.contains("openid"))
        }
    }

    // Rule 7 / OAuth 2.1 §4.3.1: every refresh returns a new refresh token,
    // and a new access token from the IdP (one upstream refresh per rotation).
    @Test("refresh rotates the refresh token and brings a new IdP access token")
    func refreshRotates() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let first = try #require(signedIn.refreshToken)
            let response = try await client.refresh(first, app: signedIn.app)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.cacheControl] == "no-store")
            let second = try #require(response.json["refresh_token"] as? String)
            #expect(second != first)
            #expect(response.json["access_token"] as? String != signedIn.accessToken)
            #expect(harness.upstream.state.current.refreshCalls.count == 1)
            // The successor works in turn.
            let third = try await client.refresh(second, app: signedIn.app)
            #expect(third.status == .ok)
            #expect(third.json["refresh_token"] as? String != second)
        }
    }

    @Test("an expiring upstream access token is refreshed at the IdP behind the shim refresh token")
    func refreshGoesUpstreamWhenExpiring() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.accessTokenLifetime = 30 }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let upstreamRefresh = harness.upstream.state.current.issuedRefreshTokens.last
            let response = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            #expect(response.status == .ok, "\(response.text)")
            let upstream = harness.upstream.state.current
            #expect(upstream.refreshCalls == [upstreamRefresh].compactMap { $0 })
            #expect(response.json["access_token"] as? String == upstream.issuedAccessTokens.last)
            #expect(response.json["access_token"] as? String != signedIn.accessToken)
            let refresh = try #require(response.json["refresh_token"] as? String)
            #expect(!upstream.issuedRefreshTokens.contains(refresh))
        }
    }
}
