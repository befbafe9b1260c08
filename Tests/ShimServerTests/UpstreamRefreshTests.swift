import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimStorage
import ShimTesting
import Testing

/// `tokens.access: upstream`: the shim refreshes upstream behind the
/// client's refresh token, and the upstream refresh token never leaves the shim.
@Suite("Upstream refresh behind the shim's refresh token")
struct UpstreamRefreshTests {
    @Test("the shim refreshes upstream with the latest upstream refresh token each time")
    func chainsUpstreamRefreshTokens() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.accessTokenLifetime = 30 }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            var token = try #require(signedIn.refreshToken)
            for round in 1...3 {
                let issuedBefore = harness.upstream.state.current.issuedRefreshTokens.last
                let response = try await client.refresh(token, app: signedIn.app)
                #expect(response.status == .ok, "round \(round): \(response.text)")
                #expect(harness.upstream.state.current.refreshCalls.last == issuedBefore, "round \(round)")
                token = try #require(response.json["refresh_token"] as? String)
            }
            #expect(harness.upstream.state.current.refreshCalls.count == 3)
        }
    }

    // Some IdPs answer a refresh without a new refresh token: the old one stays valid.
    @Test("an upstream refresh without a new refresh token keeps the previous one")
    func keepsUpstreamRefreshTokenWhenNoneReturned() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.accessTokenLifetime = 30 }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let original = try #require(harness.upstream.state.current.issuedRefreshTokens.last)
            harness.upstream.state.withLock { $0.omitRefreshToken = true }
            let first = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            #expect(first.status == .ok)
            let second = try await client.refresh(try #require(first.json["refresh_token"] as? String), app: signedIn.app)
            #expect(second.status == .ok, "\(second.text)")
            #expect(harness.upstream.state.current.refreshCalls == [original, original])
        }
    }

    // Rule 7: a revocation (RFC 7009, reuse detection, `grants revoke`) that lands
    // on another replica while this replica's upstream refresh runs must win:
    // no new tokens for the client, and what the IdP just issued revoked there.
    @Test("a grant revoked during the upstream refresh: no tokens, and the fresh upstream refresh token is revoked at the IdP")
    func revokedDuringUpstreamRefresh() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock {
            $0.accessTokenLifetime = 30
            $0.refreshDelay = .seconds(2)
        }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let token = try #require(signedIn.refreshToken)
            let grantID = try #require(try await harness.store.refreshToken(hash: SecretToken.hash(token))?.grantID)
            async let refreshed = client.refresh(token, app: signedIn.app)
            // Revoke once the upstream refresh is under way (it then takes 2 s).
            let started = ContinuousClock.now + .seconds(20)
            while harness.upstream.state.current.refreshCalls.isEmpty, ContinuousClock.now < started {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await harness.store.revokeGrant(id: grantID, at: harness.clock.now())
            let response = try await refreshed
            #expect(response.status == .badRequest && response.oauthError == "invalid_grant", "\(response.text)")
            #expect(response.json["refresh_token"] == nil && response.json["access_token"] == nil)
            let upstream = harness.upstream.state.current
            let fresh = try #require(upstream.issuedRefreshTokens.last)
            #expect(upstream.refreshCalls.count == 1)
            #expect(upstream.revoked.contains(fresh), "the refresh token the IdP issued during the race is revoked there")
        }
    }

    // Revocation reaches the IdP with the refresh token it issued last (RFC 7009 §2.1 there).
    @Test("revoking after an upstream refresh revokes the latest upstream refresh token")
    func revokeUsesLatestUpstreamToken() async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.accessTokenLifetime = 30 }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let rotated = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            let latest = try #require(harness.upstream.state.current.issuedRefreshTokens.last)
            #expect(try await client.revoke(try #require(rotated.json["refresh_token"] as? String), app: signedIn.app).status == .ok)
            #expect(harness.upstream.state.current.revoked == [latest])
        }
    }

    // Threat T26: a client refreshes because its token was rejected (revoked at the
    // IdP, clock skew, a 401 from the MCP server); the old token must not come back.
    @Test("a refresh gives a NEW access token even while the old one has most of its hour left")
    func refreshGivesFreshAccessTokenWhileOldIsFarFromExpiry() async throws {
        let harness = try ShimHarness()
        #expect(harness.upstream.state.current.accessTokenLifetime == 3600)  // as users' IdPs issue them
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            harness.clock.advance(by: 60)  // 59 minutes left: far from expiry
            let first = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            #expect(first.status == .ok, "\(first.text)")
            let access = try #require(first.json["access_token"] as? String)
            #expect(access != signedIn.accessToken)
            #expect(access == harness.upstream.state.current.issuedAccessTokens.last)
            #expect(first.json["expires_in"] as? Int == 3600)
            #expect(harness.upstream.state.current.refreshCalls.count == 1)
            // And again: one upstream refresh per rotation.
            let second = try await client.refresh(try #require(first.json["refresh_token"] as? String), app: signedIn.app)
            #expect(second.json["access_token"] as? String != access)
            #expect(harness.upstream.state.current.refreshCalls.count == 2)
        }
    }
}

/// Clamped outside numbers through the router: an IdP's absurd `expires_in`
/// gives a clamped `expires_in`, never a crash.
@Suite("Hostile upstream numbers")
struct HostileUpstreamNumberTests {
    @Test(
        "the IdP's expires_in is Int.max, Int.min or negative: /token and refresh answer 200 with a clamped expires_in",
        arguments: [Int.max, Int.min, -1, 0])
    func absurdLifetime(_ lifetime: Int) async throws {
        let harness = try ShimHarness()
        harness.upstream.state.withLock { $0.accessTokenLifetime = lifetime }
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let expiresIn = try #require(signedIn.tokenResponse.json["expires_in"] as? Int)
            #expect(expiresIn >= 0 && expiresIn <= Clamp.maxTokenLifetime)
            let refreshed = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            #expect(refreshed.status == .ok, "\(refreshed.text)")
            #expect((refreshed.json["expires_in"] as? Int).map { $0 >= 0 && $0 <= Clamp.maxTokenLifetime } == true)
        }
    }
}
