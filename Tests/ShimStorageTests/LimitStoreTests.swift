import Foundation
import ShimCore
import ShimStorage
import ShimTesting
import Testing

/// Bounded stored rows and shared rate limits: the pending-consent count for
/// `authorization.max_pending`, and rate-limit windows shared by replicas.
@Suite("Store conformance: pending count")
struct PendingCountTests {
    typealias F = StoreFixtures

    @Test("countPending follows saves, consumes and purges", arguments: StoreKind.available)
    func countFollows(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            for i in 0..<5 {
                try await store.savePending(F.pending(), id: "p\(i)", expiresAt: F.t0.addingTimeInterval(i < 3 ? 60 : 600))
            }
            #expect(try await store.countPending() == 5)
            #expect(try await store.consumePending(id: "p4", now: F.t0) != nil)
            #expect(try await store.consumePending(id: "p4", now: F.t0) == nil)
            #expect(try await store.countPending() == 4)
            try await store.purgeExpired(now: F.t0.addingTimeInterval(61))
            #expect(try await store.countPending() == 1)
        }
    }
}

@Suite("PostgresStore rate windows across replicas", .enabled(if: PostgresTestDatabase.adminURL != nil))
struct SharedRateWindowTests {
    typealias F = StoreFixtures

    @Test("both replicas count into one window; the next window starts again; a lagging clock adds to the newer window")
    func sharedWindow() async throws {
        try await PostgresReplicaTests.withReplicas { a, b async throws in
            let t = Date(timeIntervalSince1970: 1_800_000_000)  // a multiple of 60
            var counts: [Int] = []
            for i in 0..<6 {
                counts.append(
                    try await (i.isMultiple(of: 2) ? a : b).countEvent(
                        key: "register:198.51.100.1", windowSeconds: 60, now: t.addingTimeInterval(Double(i))))
            }
            #expect(counts == [1, 2, 3, 4, 5, 6])
            #expect(try await a.countEvent(key: "register:198.51.100.2", windowSeconds: 60, now: t) == 1)
            #expect(try await b.countEvent(key: "register:198.51.100.1", windowSeconds: 60, now: t.addingTimeInterval(60)) == 1)
            #expect(try await a.countEvent(key: "register:198.51.100.1", windowSeconds: 60, now: t.addingTimeInterval(59)) == 2)
            let racing = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<40 {
                    group.addTask { try await (i.isMultiple(of: 2) ? a : b).countEvent(key: "authorize:x", windowSeconds: 60, now: t) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(racing.sorted() == Array(1...40))
        }
    }
}
