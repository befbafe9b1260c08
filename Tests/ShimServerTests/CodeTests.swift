import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimTesting
import Testing

/// POST /token with `authorization_code`: rule 6 (codes), rule 3 (PKCE) and rule 8 (resource).
@Suite("Token endpoint: authorization codes (rules 3, 6, 8)")
struct CodeTests {
    /// Register and run the browser leg: a fresh code for `app`.
    static func freshCode(_ client: ShimClient, app: TestApp? = nil) async throws -> (TestApp, String) {
        let app = try await app.asyncOr { try await client.register() }
        var browser = Browser()
        let callback = try await client.authorizeThroughCallback(AuthorizeParams(app: app), browser: &browser)
        return (app, callback.code)
    }

    static func expectInvalidGrant(_ response: TestResponse, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .badRequest, comment, sourceLocation: sourceLocation)
        #expect(response.oauthError == "invalid_grant", "\(comment?.rawValue ?? ""): \(response.text)", sourceLocation: sourceLocation)
        // Rule 9 holds for error responses too (RFC 6749 §5.2 responses are token responses).
        #expect(response.headers[.cacheControl] == "no-store", comment, sourceLocation: sourceLocation)
        #expect(response.json["access_token"] == nil, comment, sourceLocation: sourceLocation)
    }

    // Rule 6 / RFC 6749 §4.1.2: "If an authorization code is used more than once, the
    // authorization server MUST deny the request and SHOULD revoke (when possible) all
    // tokens previously issued based on that authorization code."
    @Test("a replayed code is refused and revokes the tokens issued from it")
    func codeReplayRevokesGrant() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let refresh = try #require(signedIn.refreshToken)
            Self.expectInvalidGrant(try await client.exchange(code: signedIn.code, app: signedIn.app), "replay")
            Self.expectInvalidGrant(try await client.refresh(refresh, app: signedIn.app), "refresh after replay")
            // Best effort at the IdP too.
            let upstream = harness.upstream.state.current
            #expect(upstream.revoked.contains { upstream.issuedRefreshTokens.contains($0) })
        }
    }

    @Test("a replay also revokes refresh tokens already rotated from the first one")
    func codeReplayRevokesRotatedFamily() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let rotated = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            let successor = try #require(rotated.json["refresh_token"] as? String)
            Self.expectInvalidGrant(try await client.exchange(code: signedIn.code, app: signedIn.app), "replay")
            Self.expectInvalidGrant(try await client.refresh(successor, app: signedIn.app), "successor after replay")
        }
    }

    // Rule 6: codes live at most 5 minutes.
    @Test("a code expires after 5 minutes", arguments: [(299.0, true), (301.0, false)])
    func codeExpiry(elapsed: Double, works: Bool) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, code) = try await Self.freshCode(client)
            harness.clock.advance(by: elapsed)
            let response = try await client.exchange(code: code, app: app)
            if works {
                #expect(response.status == .ok, "\(response.text)")
            } else {
                Self.expectInvalidGrant(response)
            }
        }
    }

    // RFC 6749 §4.1.3: "ensure that the authorization code was issued to the authenticated confidential client".
    @Test("a code issued to one client is refused to another", arguments: ["none", "client_secret_basic"])
    func codeForAnotherClient(intruderMethod: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (_, code) = try await Self.freshCode(client)
            let redirect = intruderMethod == "none" ? ShimHarness.loopbackRedirect : ShimHarness.allowedHTTPS
            let intruder = try await client.register(redirectURIs: [ShimHarness.loopbackRedirect, redirect], authMethod: intruderMethod)
            Self.expectInvalidGrant(try await client.exchange(code: code, app: intruder, redirectURI: ShimHarness.loopbackRedirect))
        }
    }

    // RFC 6749 §4.1.3: redirect_uri must be "identical" to the one of the authorization request.
    @Test(
        "a redirect_uri at /token that differs from the authorization request is refused",
        arguments: ["http://127.0.0.1:40000/callback", "http://127.0.0.1:33418/other"])
    func redirectMismatchAtToken(redirect: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, code) = try await Self.freshCode(client)
            Self.expectInvalidGrant(try await client.exchange(code: code, app: app, redirectURI: redirect))
        }
    }

    // Rule 3 / RFC 7636 §4.6: the verifier must hash to the challenge.
    @Test(
        "a wrong or malformed code_verifier is refused",
        arguments: [String(repeating: "a", count: 43), RFC7636.verifier + "x", "short", RFC7636.challenge])
    func wrongVerifier(verifier: String) async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, code) = try await Self.freshCode(client)
            Self.expectInvalidGrant(try await client.exchange(code: code, app: app, verifier: verifier))
        }
    }

    @Test("a missing code_verifier is an invalid_request")
    func missingVerifier() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, code) = try await Self.freshCode(client)
            let (form, headers) = app.authenticate([("grant_type", "authorization_code"), ("code", code), ("redirect_uri", app.redirectURI)])
            let response = try await client.post("/token", form: form, headers: headers)
            #expect(response.status == .badRequest)
            #expect(response.oauthError == "invalid_request")
        }
    }

    // Rule 8 / RFC 8707 §2.2: the resource at /token must be the one authorized.
    @Test("a resource at /token other than the authorized one is invalid_target")
    func resourceMismatchAtToken() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, code) = try await Self.freshCode(client)
            let response = try await client.exchange(code: code, app: app, resource: "https://other.example.com/mcp")
            #expect(response.status == .badRequest)
            #expect(response.oauthError == "invalid_target")
            #expect(response.json["access_token"] == nil)
        }
    }

    @Test("omitting resource at /token gets the authorized resource's token")
    func resourceOmittedAtToken() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, code) = try await Self.freshCode(client)
            let response = try await client.exchange(code: code, app: app, resource: nil)
            #expect(response.status == .ok)
        }
    }

    @Test("an unknown code is invalid_grant")
    func unknownCode() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            Self.expectInvalidGrant(try await client.exchange(code: "made-up-code", app: app))
        }
    }

    // Rule 6 under a race: one code, ten simultaneous exchanges. At most one wins, and
    // since the others are replays, whatever the winner got is revoked (RFC 6749 §4.1.2).
    @Test("10 concurrent exchanges of one code: at most one succeeds, and its refresh token is then refused")
    func concurrentExchange() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (app, code) = try await Self.freshCode(client)
            let results = try await withThrowingTaskGroup(of: (Int, String?, String?).self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let response = try await client.exchange(code: code, app: app)
                        return (Int(response.status.code), response.oauthError, response.json["refresh_token"] as? String)
                    }
                }
                return try await group.reduce(into: [(Int, String?, String?)]()) { $0.append($1) }
            }
            #expect(results.filter { $0.0 == 200 }.count <= 1)
            #expect(results.filter { $0.0 != 200 }.allSatisfy { $0.0 == 400 && $0.1 == "invalid_grant" })
            for refresh in results.compactMap(\.2) {
                Self.expectInvalidGrant(try await client.refresh(refresh, app: app), "refresh token of a replayed code")
            }
        }
    }
}
