import Foundation
import ShimCore
import ShimStorage
import Testing

/// The stores' additions for issued tokens and the gateway: a grant's
/// upstream tokens replaced without rotation, copied claims kept.
@Suite("Store conformance: issued tokens and the gateway")
struct TokenStoreConformanceTests {
    typealias F = StoreFixtures

    @Test("replaceUpstream swaps a live grant's upstream tokens; refresh tokens and claims are untouched", arguments: StoreKind.available)
    func replaceUpstream(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            var grant = F.grant()
            grant.claims = ["tid": .string("t-1"), "roles": .array([.string("a")])]
            #expect(try await store.createGrant(grant, refreshTokenHash: "rt-1", refreshToken: F.refresh()))
            #expect(try await store.replaceUpstream(grantID: "grant-1", upstream: F.upstream("2")))
            let stored = try #require(try await store.grant(id: "grant-1"))
            #expect(stored.upstream == F.upstream("2") && stored.claims == grant.claims)
            #expect(try await store.refreshToken(hash: "rt-1") == F.refresh())
        }
    }

    @Test("replaceUpstream leaves a revoked or unknown grant alone", arguments: StoreKind.available)
    func replaceUpstreamRevoked(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            #expect(try await store.createGrant(F.grant(), refreshTokenHash: "rt-1", refreshToken: F.refresh()))
            try await store.revokeGrant(id: "grant-1", at: F.t0)
            #expect(try await !store.replaceUpstream(grantID: "grant-1", upstream: F.upstream("2")))
            #expect(try await store.grant(id: "grant-1")?.upstream == F.upstream())
            #expect(try await !store.replaceUpstream(grantID: "grant-unknown", upstream: F.upstream("2")))
            try await store.revokeGrant(id: "tombstone", at: F.t0)
            #expect(try await !store.replaceUpstream(grantID: "tombstone", upstream: F.upstream("2")))
        }
    }

    @Test("a code record's copied claims survive the store (JSON body)", arguments: StoreKind.available)
    func codeClaims(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            var code = F.code()
            code.claims = ["email": .string("a@example.com"), "n": .int(3), "ok": .bool(true)]
            try await store.saveCode(code, hash: "h1")
            #expect(try await store.redeemCode(hash: "h1", now: F.t0) == .redeemed(code))
        }
    }
}

@Suite("Store conformance: grant status for issued-token checks")
struct GrantStatusConformanceTests {
    typealias F = StoreFixtures

    @Test("grantStatus: live, revoked, tombstone, unknown", arguments: StoreKind.available)
    func grantStatus(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            #expect(try await store.grantStatus(id: "grant-1") == nil)
            #expect(try await store.createGrant(F.grant(), refreshTokenHash: "rt-1", refreshToken: F.refresh()))
            #expect(try await store.grantStatus(id: "grant-1") == GrantStatus(clientID: "client-1", revoked: false))
            try await store.revokeGrant(id: "grant-1", at: F.t0)
            #expect(try await store.grantStatus(id: "grant-1") == GrantStatus(clientID: "client-1", revoked: true))
            try await store.revokeGrant(id: "never-created", at: F.t0)
            #expect(try await store.grantStatus(id: "never-created")?.revoked == true)
            #expect(try await store.revokeGrants(clientID: "client-1", at: F.t0) == 0)
        }
    }
}
