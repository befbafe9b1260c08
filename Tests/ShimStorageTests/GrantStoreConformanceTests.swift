import Foundation
import ShimCore
import ShimStorage
import Testing

/// AuthorizationCodeStore and GrantStore semantics (rules 6 and 7), run
/// against MemoryStore and SQLiteStore alike.
@Suite("Store conformance: codes, grants, refresh rotation")
struct GrantStoreConformanceTests {
    typealias F = StoreFixtures

    // Rule 6 / RFC 6749 §4.1.2: a code is single use; a second use is recognised as a replay.
    @Test("a code is redeemed once, then reported as replayed", arguments: StoreKind.available)
    func codeRedeemOnceThenReplayed(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.saveCode(F.code(), hash: "h1")
            let now = F.t0.addingTimeInterval(60)
            #expect(try await store.redeemCode(hash: "h1", now: now) == .redeemed(F.code()))
            #expect(try await store.redeemCode(hash: "h1", now: now) == .replayed(F.code()))
            #expect(try await store.redeemCode(hash: "h1", now: now) == .replayed(F.code()))
            #expect(try await store.redeemCode(hash: "unknown", now: now) == .invalid)
        }
    }

    // Rule 6: the token endpoint reads a code before it uses it up.
    @Test(
        "reading a code changes nothing: unused until redeemed, then used; expired and unknown codes are nil",
        arguments: StoreKind.available)
    func codeReadWithoutUsingUp(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.saveCode(F.code(lifetime: 300), hash: "h1")
            let now = F.t0.addingTimeInterval(60)
            #expect(try await store.code(hash: "h1", now: now) == StoredCode(record: F.code(lifetime: 300), used: false))
            #expect(try await store.code(hash: "h1", now: now)?.used == false)
            #expect(try await store.redeemCode(hash: "h1", now: now) == .redeemed(F.code(lifetime: 300)))
            #expect(try await store.code(hash: "h1", now: now) == StoredCode(record: F.code(lifetime: 300), used: true))
            #expect(try await store.code(hash: "h1", now: F.t0.addingTimeInterval(300)) == nil)
            #expect(try await store.code(hash: "unknown", now: now) == nil)
        }
    }

    // Rule 6: codes live at most 5 minutes.
    @Test("an expired code is invalid", arguments: StoreKind.available)
    func codeExpired(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.saveCode(F.code(lifetime: 300), hash: "h1")
            #expect(try await store.redeemCode(hash: "h1", now: F.t0.addingTimeInterval(300)) == .invalid)
        }
    }

    @Test("20 concurrent redemptions of one code: exactly one is .redeemed", arguments: StoreKind.available)
    func codeConcurrentRedeem(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.saveCode(F.code(), hash: "h1")
            let results = try await withThrowingTaskGroup(of: CodeRedemption.self) { group in
                for _ in 0..<20 { group.addTask { try await store.redeemCode(hash: "h1", now: F.t0) } }
                return try await group.reduce(into: [CodeRedemption]()) { $0.append($1) }
            }
            #expect(results.filter { $0 == .redeemed(F.code()) }.count == 1)
            #expect(results.filter { $0 == .replayed(F.code()) }.count == 19)
        }
    }

    @Test(
        "createGrant stores the grant and its first refresh token; a second create of the id fails",
        arguments: StoreKind.available)
    func createGrantAndRefreshToken(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            #expect(try await store.createGrant(F.grant(), refreshTokenHash: "r1", refreshToken: F.refresh()))
            #expect(try await store.grant(id: "grant-1") == F.grant())
            #expect(try await store.refreshToken(hash: "r1") == F.refresh())
            #expect(try await store.refreshToken(hash: "r-unknown") == nil)
            #expect(try await store.grant(id: "grant-unknown") == nil)
            #expect(try await store.createGrant(F.grant(), refreshTokenHash: "r2", refreshToken: F.refresh()) == false)
            #expect(try await store.refreshToken(hash: "r2") == nil)
        }
    }

    // Rule 7 / OAuth 2.1 §4.3.1: refresh tokens are rotated on use.
    @Test("rotate succeeds once; a second rotate of the same old token returns false", arguments: StoreKind.available)
    func rotateOnce(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            _ = try await store.createGrant(F.grant(), refreshTokenHash: "r1", refreshToken: F.refresh())
            let at = F.t0.addingTimeInterval(100)
            let successor = RefreshTokenRecord(grantID: "grant-1", clientID: "client-1", issuedAt: at)
            #expect(
                try await store.rotate(
                    oldHash: "r1", rotatedAt: at, sealedSuccessor: "sealed-r2", successorHash: "r2",
                    successor: successor, upstream: F.upstream("2")))
            let old = try #require(try await store.refreshToken(hash: "r1"))
            #expect(old.rotatedAt == at)
            #expect(old.sealedSuccessor == "sealed-r2")
            #expect(try await store.refreshToken(hash: "r2") == successor)
            #expect(try await store.grant(id: "grant-1")?.upstream == F.upstream("2"))

            #expect(
                try await store.rotate(
                    oldHash: "r1", rotatedAt: at, sealedSuccessor: "sealed-r3", successorHash: "r3",
                    successor: successor, upstream: F.upstream("3")) == false)
            #expect(try await store.refreshToken(hash: "r3") == nil)
            #expect(try await store.refreshToken(hash: "r1")?.sealedSuccessor == "sealed-r2")
            #expect(try await store.grant(id: "grant-1")?.upstream == F.upstream("2"))
        }
    }

    // A revocation that lands while the upstream refresh runs (on another
    // replica) must win: the rotation checks the grant inside its own step.
    @Test("rotate of a token whose grant was revoked returns false and changes nothing", arguments: StoreKind.available)
    func rotateRevokedGrant(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            _ = try await store.createGrant(F.grant(), refreshTokenHash: "r1", refreshToken: F.refresh())
            try await store.revokeGrant(id: "grant-1", at: F.t0.addingTimeInterval(50))
            let at = F.t0.addingTimeInterval(100)
            let successor = RefreshTokenRecord(grantID: "grant-1", clientID: "client-1", issuedAt: at)
            #expect(
                try await store.rotate(
                    oldHash: "r1", rotatedAt: at, sealedSuccessor: "sealed-r2", successorHash: "r2",
                    successor: successor, upstream: F.upstream("2")) == false)
            #expect(try await store.refreshToken(hash: "r2") == nil)
            #expect(try await store.refreshToken(hash: "r1")?.rotatedAt == nil)
            #expect(try await store.grant(id: "grant-1")?.upstream != F.upstream("2"))
        }
    }

    @Test("20 concurrent rotations of one token: exactly one returns true", arguments: StoreKind.available)
    func rotateConcurrent(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            _ = try await store.createGrant(F.grant(), refreshTokenHash: "r1", refreshToken: F.refresh())
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        try await store.rotate(
                            oldHash: "r1", rotatedAt: F.t0, sealedSuccessor: "sealed-\(i)", successorHash: "succ-\(i)",
                            successor: RefreshTokenRecord(grantID: "grant-1", clientID: "client-1", issuedAt: F.t0),
                            upstream: F.upstream("\(i)"))
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            var successors = 0
            for i in 0..<20 where try await store.refreshToken(hash: "succ-\(i)") != nil { successors += 1 }
            #expect(successors == 1)
        }
    }

    // Rule 7: revoking the grant kills the family; revocation is idempotent and keeps the first time.
    @Test("revokeGrant marks the grant revoked, once", arguments: StoreKind.available)
    func revokeGrant(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            _ = try await store.createGrant(F.grant(), refreshTokenHash: "r1", refreshToken: F.refresh())
            try await store.revokeGrant(id: "grant-1", at: F.t0.addingTimeInterval(5))
            try await store.revokeGrant(id: "grant-1", at: F.t0.addingTimeInterval(9))
            #expect(try await store.grant(id: "grant-1")?.revokedAt == F.t0.addingTimeInterval(5))
        }
    }

    // Rule 6: a replayed code that wins the race revokes a grant not yet created.
    @Test("revokeGrant before createGrant leaves a tombstone: createGrant then fails", arguments: StoreKind.available)
    func revokeBeforeCreateIsTombstone(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.revokeGrant(id: "grant-1", at: F.t0)
            #expect(try await store.grant(id: "grant-1") == nil)
            #expect(try await store.createGrant(F.grant(), refreshTokenHash: "r1", refreshToken: F.refresh()) == false)
            #expect(try await store.grant(id: "grant-1") == nil)
            #expect(try await store.refreshToken(hash: "r1") == nil)
        }
    }
}
