import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimStorage
import ShimTesting
import Testing

/// Bounded stored rows: unauthenticated /authorize writes a pending record
/// each time; it is limited per client address and the records are capped.
@Suite("Authorization limits")
struct AuthorizationLimitsTests {
    @Test("over authorization.rate_limit: 429 with Retry-After, a page, never a redirect")
    func rateLimited() async throws {
        let harness = try ShimHarness(overrides: ["authorization": .map(["rate_limit": .string("2")])])
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser()
            for _ in 0..<2 { #expect(try await client.authorize(AuthorizeParams(app: app), browser: &browser).status == .seeOther) }
            let third = try await client.authorize(AuthorizeParams(app: app), browser: &browser)
            #expect(third.status == .tooManyRequests)
            #expect(third.location == nil)
            let wait = try #require(third.headers[.retryAfter].flatMap { Int($0) })
            #expect(wait >= 1 && wait <= 60)
            #expect(try await harness.store.countPending() == 2)
            harness.clock.advance(by: 61)
            #expect(try await client.authorize(AuthorizeParams(app: app), browser: &browser).status == .seeOther)
        }
    }

    @Test("at authorization.max_pending: a temporarily_unavailable redirect and nothing stored; purged records make room")
    func pendingCap() async throws {
        let harness = try ShimHarness(overrides: ["authorization": .map(["rate_limit": .string("0"), "max_pending": .string("2")])])
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser()
            for _ in 0..<2 { #expect(try await client.authorize(AuthorizeParams(app: app), browser: &browser).status == .seeOther) }
            let third = try await client.authorize(AuthorizeParams(app: app), browser: &browser)
            #expect(third.status == .found)
            #expect(third.redirectParams["error"] == "temporarily_unavailable")
            #expect(try await harness.store.countPending() == 2)
            harness.clock.advance(by: 601)
            try await harness.store.purgeExpired(now: harness.clock.now())
            #expect(try await harness.store.countPending() == 0)
            #expect(try await client.authorize(AuthorizeParams(app: app), browser: &browser).status == .seeOther)
        }
    }
}
