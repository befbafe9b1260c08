import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimTesting
import Testing

/// Registration abuse limits (`registration.*`): unused registrations expire,
/// a per-address rate limit and a cap on live registrations.
@Suite("Registration limits")
struct RegistrationLimitsTests {
    @Test("a registration never used expires after registration.unused_ttl")
    func unusedRegistrationExpires() async throws {
        let harness = try ShimHarness(overrides: ["registration": .map(["rate_limit": .string("0"), "unused_ttl": .string("1h")])])
        try await harness.run { client async throws in
            let app = try await client.register()
            harness.clock.advance(by: 3601)
            let page = try await client.get(AuthorizeParams(app: app).uri, headers: [.accept: "application/json"])
            #expect(page.status == .badRequest)
            #expect(page.location == nil)
            #expect(page.oauthError == "invalid_client")
            // Rule 2: 401 invalid_client at /token makes the client register again.
            let token = try await client.exchange(code: "x", app: app)
            #expect(token.status == .unauthorized)
            #expect(token.oauthError == "invalid_client")
        }
    }

    @Test("a registration that received tokens does not expire")
    func usedRegistrationStays() async throws {
        let harness = try ShimHarness(overrides: ["registration": .map(["rate_limit": .string("0"), "unused_ttl": .string("1h")])])
        try await harness.run { client async throws in
            let signedIn = try await client.signIn()
            harness.clock.advance(by: 7200)
            let refreshed = try await client.refresh(try #require(signedIn.refreshToken), app: signedIn.app)
            #expect(refreshed.status == .ok, "\(refreshed.text)")
            var browser = Browser()
            #expect(try await client.authorize(AuthorizeParams(app: signedIn.app), browser: &browser).status == .seeOther)
        }
    }

    // RFC 6585 §4: 429 with Retry-After.
    @Test("registrations over the per-address rate limit get 429 with Retry-After")
    func rateLimited() async throws {
        let harness = try ShimHarness(overrides: ["registration": .map(["rate_limit": .string("2")])])
        try await harness.run { client async throws in
            _ = try await client.register()
            _ = try await client.register()
            let third = try await client.registerRaw(#"{"redirect_uris":["\#(ShimHarness.loopbackRedirect)"]}"#)
            #expect(third.status == .tooManyRequests)
            #expect(third.oauthError != nil)
            let wait = try #require(third.headers[.retryAfter].flatMap { Int($0) })
            #expect(wait > 0 && wait <= 60)
            harness.clock.advance(by: 61)
            _ = try await client.register()
        }
    }

    @Test("registrations over registration.max_clients are refused with an OAuth error")
    func capReached() async throws {
        let harness = try ShimHarness(overrides: [
            "registration": .map([
                "rate_limit": .string("0"), "max_clients": .string("2"),
                "unused_ttl": .string("1h"),
            ])
        ])
        try await harness.run { client async throws in
            _ = try await client.register()
            _ = try await client.register()
            let third = try await client.registerRaw(#"{"redirect_uris":["\#(ShimHarness.loopbackRedirect)"]}"#)
            #expect(third.status == .serviceUnavailable)
            #expect(third.oauthError == "temporarily_unavailable")
            // Unused registrations past their TTL make room.
            harness.clock.advance(by: 3601)
            _ = try await client.register()
        }
    }
}
