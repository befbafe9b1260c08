import Foundation
import ShimCore
import ShimStorage
import Testing

/// GatewaySessionStore semantics (GatewaySessionStore.swift) on every store:
/// the first owner keeps a live session, the same owner's record slides,
/// a lapsed record is nobody's, forget and purge.
@Suite("GatewaySessionStore conformance")
struct GatewaySessionStoreConformanceTests {
    static let alice = GatewaySessionOwner(subject: "alice", clientID: "client-1", resource: "https://mcp.example.com/mcp")
    static let bob = GatewaySessionOwner(subject: "bob", clientID: "client-1", resource: "https://mcp.example.com/mcp")
    static let key = SecretToken.hash("session-42")
    static func at(_ seconds: TimeInterval) -> Date { StoreFixtures.t0.addingTimeInterval(seconds) }

    @Test("the first owner keeps a live session; another owner's record changes nothing", arguments: StoreKind.available)
    func firstOwnerWins(_ kind: StoreKind) async throws {
        try await kind.with { (store: any ShimStore) async throws in
            #expect(try await store.gatewaySession(key: Self.key, now: Self.at(0)) == nil)
            let recorded = try await store.recordGatewaySession(key: Self.key, owner: Self.alice, expiresAt: Self.at(3600), now: Self.at(0))
            #expect(recorded == GatewaySessionRecord(owner: Self.alice, expiresAt: Self.at(3600)))
            let other = try await store.recordGatewaySession(key: Self.key, owner: Self.bob, expiresAt: Self.at(3700), now: Self.at(100))
            #expect(other == GatewaySessionRecord(owner: Self.alice, expiresAt: Self.at(3600)))
            #expect(try await store.gatewaySession(key: Self.key, now: Self.at(100))?.owner == Self.alice)
            // The same user through another client, or at another resource, is another owner.
            var otherClient = Self.alice
            otherClient.clientID = "client-2"
            let viaOtherClient = try await store.recordGatewaySession(key: Self.key, owner: otherClient, expiresAt: Self.at(3700), now: Self.at(100))
            #expect(viaOtherClient.owner == Self.alice)
            var otherResource = Self.alice
            otherResource.resource = "https://mcp.example.com/other"
            #expect(
                try await store.recordGatewaySession(key: Self.key, owner: otherResource, expiresAt: Self.at(3700), now: Self.at(100)).owner
                    == Self.alice)
        }
    }

    @Test("the owner's record slides; touch moves the lapse; a lapsed record is nobody's", arguments: StoreKind.available)
    func slidingExpiry(_ kind: StoreKind) async throws {
        try await kind.with { (store: any ShimStore) async throws in
            _ = try await store.recordGatewaySession(key: Self.key, owner: Self.alice, expiresAt: Self.at(3600), now: Self.at(0))
            let again = try await store.recordGatewaySession(key: Self.key, owner: Self.alice, expiresAt: Self.at(4000), now: Self.at(400))
            #expect(again.expiresAt == Self.at(4000))
            try await store.touchGatewaySession(key: Self.key, expiresAt: Self.at(5000))
            #expect(try await store.gatewaySession(key: Self.key, now: Self.at(4500))?.expiresAt == Self.at(5000))
            #expect(try await store.gatewaySession(key: Self.key, now: Self.at(5000)) == nil)
            // Lapsed: another owner may record it (the MCP server made the id again).
            let taken = try await store.recordGatewaySession(key: Self.key, owner: Self.bob, expiresAt: Self.at(9000), now: Self.at(5000))
            #expect(taken.owner == Self.bob)
        }
    }

    @Test("forget and purge", arguments: StoreKind.available)
    func forgetAndPurge(_ kind: StoreKind) async throws {
        try await kind.with { (store: any ShimStore) async throws in
            for n in 0..<4 {
                _ = try await store.recordGatewaySession(
                    key: SecretToken.hash("s-\(n)"), owner: Self.alice, expiresAt: Self.at(TimeInterval(100 * (n + 1))), now: Self.at(0))
            }
            try await store.forgetGatewaySession(key: SecretToken.hash("s-3"))
            #expect(try await store.gatewaySession(key: SecretToken.hash("s-3"), now: Self.at(0)) == nil)
            #expect(try await store.purgeExpiredGatewaySessions(now: Self.at(200)) == 2)
            #expect(try await store.gatewaySession(key: SecretToken.hash("s-2"), now: Self.at(250))?.owner == Self.alice)
            #expect(try await store.purgeExpiredGatewaySessions(now: Self.at(200)) == 0)
        }
    }
}
