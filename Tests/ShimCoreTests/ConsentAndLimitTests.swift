import Foundation
import ShimCore
import Testing

@Suite("Rule 4: remembered consent covers only what was approved")
struct ConsentRecordTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let record = ConsentRecord(
        browser: "b1", clientID: "c1", redirectURI: "http://127.0.0.1:5/cb",
        scope: ScopeSet("mcp read"), resource: "https://m/mcp", expiresAt: now.addingTimeInterval(60))

    static func request(
        client: String = "c1", redirect: String = "http://127.0.0.1:5/cb", scope: String = "mcp",
        resource: String = "https://m/mcp"
    ) -> AuthorizationRequest {
        AuthorizationRequest(
            clientID: client, redirectURI: redirect, state: nil, codeChallenge: "x", resource: resource,
            scope: ScopeSet(scope), upstreamScope: ScopeSet(scope))
    }

    @Test("same browser, client, redirect_uri, resource and narrower scope: covered")
    func covered() {
        #expect(Self.record.covers(Self.request(), browser: "b1", now: Self.now))
        #expect(Self.record.covers(Self.request(scope: "read mcp"), browser: "b1", now: Self.now))
    }

    @Test(
        "anything else asks again",
        arguments: [
            ("b2", request(), now), ("b1", request(client: "c2"), now), ("b1", request(redirect: "http://127.0.0.1:6/cb"), now),
            ("b1", request(scope: "mcp admin"), now), ("b1", request(resource: "https://other/mcp"), now),
            ("b1", request(), now.addingTimeInterval(61)),
        ])
    func notCovered(_ browser: String, _ request: AuthorizationRequest, _ at: Date) {
        #expect(!Self.record.covers(request, browser: browser, now: at))
    }
}

@Suite("Registration rate limit")
struct FixedWindowLimiterTests {
    @Test("N per window per key, then Retry-After until the window resets")
    func limit() {
        var limiter = FixedWindowLimiter(limit: 3, window: 60)
        let t0 = Date(timeIntervalSince1970: 0)
        for _ in 0..<3 { #expect(limiter.attempt("1.2.3.4", now: t0) == nil) }
        #expect(limiter.attempt("1.2.3.4", now: t0.addingTimeInterval(10)) == 50)
        #expect(limiter.attempt("5.6.7.8", now: t0.addingTimeInterval(10)) == nil)
        #expect(limiter.attempt("1.2.3.4", now: t0.addingTimeInterval(60)) == nil)
        var off = FixedWindowLimiter(limit: 0, window: 60)
        for _ in 0..<100 { #expect(off.attempt("x", now: t0) == nil) }
    }
}

@Suite("Registration rate limit memory")
struct FixedWindowLimiterMemoryTests {
    @Test("a flood from many addresses keeps the table bounded and keeps limiting recent ones")
    func bounded() {
        var limiter = FixedWindowLimiter(limit: 1, window: 60, maxKeys: 100)
        let t0 = Date(timeIntervalSince1970: 0)
        for i in 0..<1000 { _ = limiter.attempt("10.0.\(i / 256).\(i % 256)", now: t0.addingTimeInterval(Double(i) / 100)) }
        // The most recent address is still remembered and limited.
        #expect(limiter.attempt("10.0.3.231", now: t0.addingTimeInterval(10)) != nil)
    }
}
