import Foundation
import ShimCore
import Testing

/// `SessionBinding` and `StreamLifetime` (docs/security-rules.md, rule 15).
@Suite("Gateway rules: sessions bound to their user, stream lifetime")
struct SessionBindingRulesTests {
    static let alice = GatewaySessionOwner(subject: "alice", clientID: "c1", resource: "https://mcp.example.com/mcp")

    static func with(_ change: (inout GatewaySessionOwner) -> Void) -> GatewaySessionOwner {
        var owner = alice
        change(&owner)
        return owner
    }

    @Test(
        "only the principal that opened a session may name it; an unrecorded one is not found",
        arguments: [
            ([String](), Optional<GatewaySessionOwner>.none, SessionBinding.Decision.noSession),
            (["s-1"], alice, .owned),
            (["s-1"], nil, .notFound),
            (["s-1"], with { $0.subject = "bob" }, .notFound),
            (["s-1"], with { $0.clientID = "c2" }, .notFound),
            (["s-1"], with { $0.resource = "https://mcp.example.com/other" }, .notFound),
            (["s-1", "s-1"], alice, .malformed),
            (["s 1"], alice, .malformed),
            ([""], alice, .malformed),
            (["s-\u{e9}"], alice, .malformed),
            ([String(repeating: "a", count: 513)], alice, .malformed),
        ])
    func decide(_ ids: [String], _ recorded: GatewaySessionOwner?, _ expected: SessionBinding.Decision) {
        #expect(SessionBinding.decide(sessionIDs: ids, recorded: recorded, requester: Self.alice) == expected)
    }

    @Test("a record in use is moved once a tenth of the idle timeout has passed, not on every request")
    func touch() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(!SessionBinding.needsTouch(expiresAt: now.addingTimeInterval(3600), now: now, idleTimeout: 3600))
        #expect(!SessionBinding.needsTouch(expiresAt: now.addingTimeInterval(3300), now: now, idleTimeout: 3600))
        #expect(SessionBinding.needsTouch(expiresAt: now.addingTimeInterval(3200), now: now, idleTimeout: 3600))
    }

    @Test("a stream ends at the earlier of the token's exp and the stream lifetime")
    func lifetime() {
        let opened = Date(timeIntervalSince1970: 1_000_000)
        #expect(StreamLifetime.end(tokenExpiresAt: 1_000_300, openedAt: opened, maxLifetimeSeconds: 3600) == Date(timeIntervalSince1970: 1_000_300))
        #expect(StreamLifetime.end(tokenExpiresAt: 1_900_000, openedAt: opened, maxLifetimeSeconds: 3600) == opened.addingTimeInterval(3600))
    }
}
