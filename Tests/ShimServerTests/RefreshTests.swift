import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimTesting
import Testing

/// POST /token with `refresh_token`: rule 7 (rotation, binding, reuse, grace window).
@Suite("Token endpoint: refresh tokens (rule 7)")
struct RefreshTests {
    // RFC 6749 §6: "the refresh token was issued to the authenticated client".
    @Test("another client's refresh token is invalid_grant")
    func refreshBoundToClient() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let intruder = try await client.register()
            let response = try await client.refresh(try #require(signedIn.refreshToken), app: intruder)
            CodeTests.expectInvalidGrant(response)
        }
    }

    // Rule 7 / OAuth 2.1 §4.3.1, RFC 9700 §4.14.2: reuse of a rotated token revokes the family.
    @Test("reuse after the grace window is refused and revokes the successor too")
    func reuseAfterGraceRevokesFamily() async throws {
        let harness = try ShimHarness(refreshGrace: "45s")
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let first = try #require(signedIn.refreshToken)
            let rotated = try await client.refresh(first, app: signedIn.app)
            let successor = try #require(rotated.json["refresh_token"] as? String)
            harness.clock.advance(by: 46)
            CodeTests.expectInvalidGrant(try await client.refresh(first, app: signedIn.app), "reuse")
            CodeTests.expectInvalidGrant(try await client.refresh(successor, app: signedIn.app), "successor after reuse")
            let upstream = harness.upstream.state.current
            #expect(upstream.revoked.contains { upstream.issuedRefreshTokens.contains($0) })
        }
    }

    // Rule 7: a short grace window for honest concurrent refreshes.
    @Test("reuse within the grace window returns the same successor, without a second upstream refresh")
    func reuseWithinGraceReturnsSameSuccessor() async throws {
        let harness = try ShimHarness(refreshGrace: "45s")
        harness.upstream.state.withLock { $0.accessTokenLifetime = 30 }  // below the shim's refresh margin
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let first = try #require(signedIn.refreshToken)
            let rotated = try await client.refresh(first, app: signedIn.app)
            #expect(rotated.status == .ok)
            #expect(harness.upstream.state.current.refreshCalls.count == 1)
            harness.clock.advance(by: 44)
            let again = try await client.refresh(first, app: signedIn.app)
            #expect(again.status == .ok, "\(again.text)")
            #expect(again.headers[.cacheControl] == "no-store")
            #expect(again.json["refresh_token"] as? String == rotated.json["refresh_token"] as? String)
            #expect(again.json["access_token"] as? String == rotated.json["access_token"] as? String)
            #expect(harness.upstream.state.current.refreshCalls.count == 1)
            // The successor is still good.
            let next = try await client.refresh(try #require(rotated.json["refresh_token"] as? String), app: signedIn.app)
            #expect(next.status == .ok)
        }
    }

    @Test("with a zero grace window any reuse revokes the family")
    func zeroGrace() async throws {
        let harness = try ShimHarness(refreshGrace: "0s")
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let first = try #require(signedIn.refreshToken)
            let rotated = try await client.refresh(first, app: signedIn.app)
            let successor = try #require(rotated.json["refresh_token"] as? String)
            harness.clock.advance(by: 1)
            CodeTests.expectInvalidGrant(try await client.refresh(first, app: signedIn.app))
            CodeTests.expectInvalidGrant(try await client.refresh(successor, app: signedIn.app))
        }
    }

    @Test("10 concurrent refreshes of one token: all succeed with one successor and one upstream refresh")
    func concurrentRefreshes() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock {
            $0.accessTokenLifetime = 30
            $0.refreshDelay = .milliseconds(150)
        }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let token = try #require(signedIn.refreshToken)
            let app = signedIn.app
            let results = try await withThrowingTaskGroup(of: (Int, String?, String?).self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let response = try await client.refresh(token, app: app)
                        return (Int(response.status.code), response.json["refresh_token"] as? String, response.json["access_token"] as? String)
                    }
                }
                return try await group.reduce(into: [(Int, String?, String?)]()) { $0.append($1) }
            }
            #expect(results.map(\.0) == Array(repeating: 200, count: 10))
            #expect(Set(results.compactMap(\.1)).count == 1)
            #expect(results.compactMap(\.1).count == 10)
            #expect(Set(results.compactMap(\.2)).count == 1)
            #expect(results.first?.1 != token)
            #expect(harness.upstream.state.current.refreshCalls.count == 1)
        }
    }

    // The IdP's `invalid_grant` ends the grant: the user must sign in again.
    @Test("the IdP refusing the upstream refresh gives invalid_grant, and the grant stays dead")
    func upstreamInvalidGrantAtRefresh() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.accessTokenLifetime = 30 }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            harness.upstream.state.withLock { $0.refreshFailure = FakeUpstream.invalidGrant }
            let token = try #require(signedIn.refreshToken)
            CodeTests.expectInvalidGrant(try await client.refresh(token, app: signedIn.app))
            harness.upstream.state.withLock { $0.refreshFailure = nil }
            CodeTests.expectInvalidGrant(try await client.refresh(token, app: signedIn.app), "after upstream invalid_grant")
        }
    }

    // RFC 6749 §5.2: a temporary IdP failure is not the client's fault; its token must survive.
    @Test("the IdP unavailable at refresh: an error without 200, and the token still works afterwards")
    func upstreamUnavailableAtRefresh() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.accessTokenLifetime = 30 }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let token = try #require(signedIn.refreshToken)
            harness.upstream.state.withLock { $0.refreshFailure = FakeUpstream.unavailable }
            let failed = try await client.refresh(token, app: signedIn.app)
            #expect(failed.status != .ok)
            #expect(failed.oauthError == "temporarily_unavailable")
            harness.upstream.state.withLock { $0.refreshFailure = nil }
            let retried = try await client.refresh(token, app: signedIn.app)
            #expect(retried.status == .ok, "\(retried.text)")
        }
    }

    // RFC 6749 §6: the scope requested "MUST NOT include any scope not originally granted".
    @Test("a refresh asking for a wider scope is invalid_scope")
    func refreshWiderScope() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let response = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app, extra: [("scope", "mcp.read mcp.write")])
            #expect(response.status == .badRequest)
            #expect(response.oauthError == "invalid_scope")
        }
    }

    // Rule 8: tokens are for the authorized resource only.
    @Test("a refresh for another resource is invalid_target")
    func refreshOtherResource() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let response = try await client.refresh(
                try #require(signedIn.refreshToken), app: signedIn.app,
                extra: [("resource", "https://other.example.com/mcp")])
            #expect(response.status == .badRequest)
            #expect(response.oauthError == "invalid_target")
        }
    }

    // `tokens.refresh_ttl`: a grant ends after it, rotation or not.
    @Test("a refresh token is refused once the grant is older than tokens.refresh_ttl")
    func refreshTTL() async throws {
        let harness = try ShimHarness(overrides: ["tokens": .map(["refresh_ttl": .string("1d")])])
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            harness.clock.advance(by: 3600)
            let rotated = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            #expect(rotated.status == .ok)
            harness.clock.advance(by: 86400)
            CodeTests.expectInvalidGrant(try await client.refresh(try #require(rotated.json["refresh_token"] as? String), app: signedIn.app))
        }
    }

    // RFC 6749 §5.1: `scope` is "the scope of the access token"; §6: a narrower refresh
    // either gets a token of that narrower scope or must not claim one.
    @Test("a narrower refresh scope is only reported for a token that is actually narrower")
    func refreshNarrowerScopeIsTruthful() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser()
            var params = AuthorizeParams(app: app)
            params.scope = "mcp.read mcp.write"
            let code = try await client.authorizeThroughCallback(params, browser: &browser).code
            let tokens = try await client.exchange(code: code, app: app)
            #expect(tokens.json["scope"] as? String == "mcp.read mcp.write")
            let refresh = try #require(tokens.json["refresh_token"] as? String)
            let narrowed = try await client.refresh(refresh, app: app, extra: [("scope", "mcp.read")])
            #expect(narrowed.status == .ok)
            if narrowed.json["access_token"] as? String == tokens.json["access_token"] as? String {
                // The very token issued for "mcp.read mcp.write" came back: it must say so.
                #expect(
                    narrowed.json["scope"] as? String == "mcp.read mcp.write",
                    "the same upstream access token is reported with scope \(narrowed.json["scope"] ?? "-")")
            } else {
                #expect(harness.upstream.state.current.refreshCalls.count == 1)
            }
        }
    }
}
