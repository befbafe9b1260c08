import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimStorage
import ShimTesting
import Testing

/// What the server writes to its store: secrets by hash (rules 5, 6, 7:
/// records are keyed by a hash of the secret, never the secret) and upstream
/// tokens sealed (kept server-side, encrypted).
@Suite("Stored records: hashes and sealed upstream tokens")
struct StoredSecretsTests {
    @Test("codes and refresh tokens are stored under their hash, never the token itself")
    func codesAndRefreshTokensByHash() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser()
            let code = try await client.authorizeThroughCallback(AuthorizeParams(app: app), browser: &browser).code
            let store = harness.store
            let now = harness.clock.now()
            #expect(try await store.redeemCode(hash: code, now: now) == .invalid)
            let tokens = try await client.exchange(code: code, app: app)
            #expect(tokens.status == .ok)
            // The exchange redeemed it under its hash.
            if case .replayed = try await store.redeemCode(hash: SecretToken.hash(code), now: now) {
            } else {
                Issue.record("the code is not stored under SecretToken.hash(code)")
            }
            let refresh = try #require(tokens.json["refresh_token"] as? String)
            #expect(try await store.refreshToken(hash: refresh) == nil)
            #expect(try await store.refreshToken(hash: SecretToken.hash(refresh))?.clientID == app.clientID)
        }
    }

    @Test("consent request ids and upstream states are stored under their hash")
    func requestIDsAndStatesByHash() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser()
            let start = try await client.authorize(AuthorizeParams(app: app), browser: &browser)
            let location = try #require(start.location)
            let requestID = try #require(try URLQuery.parse(location)["request_id"])
            let now = harness.clock.now()
            #expect(try await harness.store.pending(id: requestID, now: now) == nil)
            #expect(try await harness.store.pending(id: SecretToken.hash(requestID), now: now) != nil)

            let form = try await client.consentPage(location, browser: browser)
            let upstreamURL = try #require(try await client.decide(form, browser: browser).location)
            let state = try #require(try URLQuery.parse(upstreamURL)["state"])
            #expect(try await harness.store.consumeTransaction(id: state, now: now) == nil)
            let transaction = try #require(try await harness.store.consumeTransaction(id: SecretToken.hash(state), now: now))
            // Bound to the browser by the hash of its binding id, never the cookie itself.
            let cookie = try #require(browser.cookie)
            let cookieValue = String(cookie.split(separator: "=", maxSplits: 1)[1])
            #expect(!cookieValue.contains(transaction.browser))
            #expect(transaction.codeVerifier != RFC7636.verifier)
        }
    }

    @Test("the grant keeps the upstream tokens sealed, not in the clear")
    func upstreamTokensSealed() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            let refresh = try #require(signedIn.refreshToken)
            let record = try #require(try await harness.store.refreshToken(hash: SecretToken.hash(refresh)))
            let grant = try #require(try await harness.store.grant(id: record.grantID))
            let upstream = harness.upstream.state.current
            let plainAccess = try #require(upstream.issuedAccessTokens.last)
            let plainRefresh = try #require(upstream.issuedRefreshTokens.last)
            let stored = String(decoding: try JSONEncoder().encode(grant), as: UTF8.self)
            #expect(!stored.contains(plainAccess))
            #expect(!stored.contains(plainRefresh))
            #expect(grant.subject == FakeUpstream.subject)
            #expect(grant.clientID == signedIn.app.clientID)
            #expect(grant.resource == ShimHarness.resource)
        }
    }
}
