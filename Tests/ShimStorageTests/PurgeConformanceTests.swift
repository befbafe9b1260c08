import Foundation
import ShimCore
import ShimStorage
import Testing

/// Bounded stored rows: housekeeping deletes what can never be used again,
/// on every store, and keeps what still matters.
@Suite("Store conformance: purging what can never be used again")
struct PurgeConformanceTests {
    typealias F = StoreFixtures
    static let now = F.t0.addingTimeInterval(86400)

    static func grant(_ id: String, expiresAt: Date) -> Grant {
        var grant = F.grant(id)
        grant.expiresAt = expiresAt
        return grant
    }

    @Test(
        "expired and long-revoked grants go with their refresh tokens; old tombstones go; live and recent ones stay",
        arguments: StoreKind.available)
    func grants(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            let live = Self.now.addingTimeInterval(30 * 86400)
            for (id, expiry) in [("live", live), ("expired", F.t0.addingTimeInterval(3600)), ("old-revoked", live), ("new-revoked", live)] {
                #expect(
                    try await store.createGrant(Self.grant(id, expiresAt: expiry), refreshTokenHash: "\(id)-r1", refreshToken: F.refresh(grantID: id))
                )
                #expect(
                    try await store.rotate(
                        oldHash: "\(id)-r1", rotatedAt: F.t0, sealedSuccessor: "s", successorHash: "\(id)-r2",
                        successor: F.refresh(grantID: id), upstream: F.upstream()))
            }
            try await store.revokeGrant(id: "old-revoked", at: F.t0)
            try await store.revokeGrant(id: "new-revoked", at: Self.now.addingTimeInterval(-600))
            try await store.revokeGrant(id: "old-tombstone", at: F.t0)
            try await store.revokeGrant(id: "new-tombstone", at: Self.now.addingTimeInterval(-600))

            let counts = try await store.purgeExpired(now: Self.now)
            #expect(counts.grants == 3 && counts.refreshTokens == 4, "\(counts)")
            for gone in ["expired", "old-revoked"] {
                #expect(try await store.grant(id: gone) == nil)
                #expect(try await store.refreshToken(hash: "\(gone)-r1") == nil)
                #expect(try await store.refreshToken(hash: "\(gone)-r2") == nil)
            }
            // The live family keeps its rotated token: presenting it again is how theft is detected (rule 7).
            #expect(try await store.refreshToken(hash: "live-r1")?.rotatedAt == F.t0)
            #expect(try await store.refreshToken(hash: "live-r2") != nil)
            #expect(try await store.grant(id: "new-revoked")?.revokedAt != nil)
            // A recent tombstone still stops a late createGrant; an old one is gone.
            #expect(
                try await store.createGrant(F.grant("new-tombstone"), refreshTokenHash: "x1", refreshToken: F.refresh(grantID: "new-tombstone"))
                    == false)
            #expect(try await store.createGrant(F.grant("old-tombstone"), refreshTokenHash: "x2", refreshToken: F.refresh(grantID: "old-tombstone")))
            #expect(try await store.purgeExpired(now: Self.now).total == 0)
        }
    }

    @Test("consents past expiry go; live ones stay", arguments: StoreKind.available)
    func consents(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            var expired = F.consent(browser: "b-old")
            expired.expiresAt = Self.now.addingTimeInterval(-1)
            try await store.saveConsent(expired)
            try await store.saveConsent(F.consent(browser: "b-new"))  // expires t0 + 1 day = now: gone too
            var live = F.consent(browser: "b-live")
            live.expiresAt = Self.now.addingTimeInterval(3600)
            try await store.saveConsent(live)
            #expect(try await store.purgeExpired(now: Self.now).consents == 2)
            #expect(try await store.consent(browser: "b-old", clientID: "client-1", redirectURI: "https://app.example.com/cb") == nil)
            #expect(try await store.consent(browser: "b-live", clientID: "client-1", redirectURI: "https://app.example.com/cb") == live)
        }
    }

    @Test("audit events before the retention cut-off go, in batches", arguments: StoreKind.available)
    func audit(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            for i in 0..<2500 {
                try await store.appendAudit(AuditEvent(at: F.t0.addingTimeInterval(Double(i)), kind: .refresh, clientID: "c\(i)"))
            }
            #expect(try await store.purgeAudit(before: F.t0.addingTimeInterval(2100)) == 2100)
            let left = try await store.auditEvents(since: nil, limit: 10_000)
            #expect(left.count == 400 && left.first?.clientID == "c2100")
        }
    }
}
