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

    @Test("grantStatus: live (with the grant's expiry), revoked, tombstone, unknown", arguments: StoreKind.available)
    func grantStatus(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            #expect(try await store.grantStatus(id: "grant-1") == nil)
            #expect(try await store.createGrant(F.grant(), refreshTokenHash: "rt-1", refreshToken: F.refresh()))
            let expiry = F.grant().expiresAt
            #expect(try await store.grantStatus(id: "grant-1") == GrantStatus(clientID: "client-1", revoked: false, expiresAt: expiry))
            try await store.revokeGrant(id: "grant-1", at: F.t0)
            #expect(try await store.grantStatus(id: "grant-1") == GrantStatus(clientID: "client-1", revoked: true, expiresAt: expiry))
            try await store.revokeGrant(id: "never-created", at: F.t0)
            #expect(try await store.grantStatus(id: "never-created")?.revoked == true)
            #expect(try await store.revokeGrants(clientID: "client-1", at: F.t0) == 0)
        }
    }
}

/// Rule 12: an assertion's `jti` is single use, for every replica.
@Suite("Store conformance: assertion ids (ID-JAG jti) single use")
struct AssertionReplayConformanceTests {
    typealias F = StoreFixtures

    @Test("recorded once; refused while live; reusable after expiry; purged", arguments: StoreKind.available)
    func singleUse(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            let expiry = F.t0.addingTimeInterval(300)
            #expect(try await store.recordAssertionID("k1", expiresAt: expiry, now: F.t0))
            #expect(try await !store.recordAssertionID("k1", expiresAt: expiry, now: F.t0.addingTimeInterval(10)))
            #expect(try await store.recordAssertionID("k2", expiresAt: expiry, now: F.t0))
            // Past its expiry the id may be recorded again (the assertion itself is expired by then).
            #expect(try await store.recordAssertionID("k1", expiresAt: expiry.addingTimeInterval(600), now: expiry))
            #expect(try await !store.recordAssertionID("k1", expiresAt: expiry.addingTimeInterval(600), now: expiry.addingTimeInterval(1)))
            try await store.purgeExpiredAssertionIDs(now: expiry.addingTimeInterval(1))
            #expect(try await !store.recordAssertionID("k1", expiresAt: expiry, now: expiry.addingTimeInterval(2)))
            #expect(try await store.recordAssertionID("k2", expiresAt: expiry.addingTimeInterval(900), now: expiry.addingTimeInterval(2)))
        }
    }

    @Test("20 concurrent presentations of one jti: exactly one wins", arguments: StoreKind.available)
    func concurrent(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 { group.addTask { try await store.recordAssertionID("jti", expiresAt: F.t0.addingTimeInterval(60), now: F.t0) } }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(wins == 1)
        }
    }
}

extension PostgresReplicaTests {
    // Rule 12 across replicas: an ID-JAG's jti.
    @Test("one assertion id presented to two replicas at once: exactly one accepted")
    func assertionIDAcrossReplicas() async throws {
        try await Self.withReplicas { a, b in
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    let store = i.isMultiple(of: 2) ? a : b
                    group.addTask { try await store.recordAssertionID("jti-1", expiresAt: F.t0.addingTimeInterval(60), now: F.t0) }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(wins == 1)
        }
    }
}
