import Foundation
import ShimCore
import ShimStorage
import ShimTesting
import Testing

/// PostgreSQL is the store for replicas. Two `PostgresStore`s on one
/// database stand for two replicas; every single-use rule must hold across them.
/// Runs only when `DCR_SHIM_TEST_POSTGRES_URL` names a server.
@Suite("PostgresStore across replicas", .enabled(if: PostgresTestDatabase.adminURL != nil))
struct PostgresReplicaTests {
    typealias F = StoreFixtures

    static func withReplicas(_ body: (PostgresStore, PostgresStore) async throws -> Void) async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let first = try await PostgresStore.open(url: url, logger: F.quietLogger)
            let second = try await PostgresStore.open(url: url, logger: F.quietLogger)
            defer {
                first.close()
                second.close()
            }
            try await body(first, second)
        }
    }

    // Rule 6 across replicas.
    @Test("one code redeemed from two replicas at once: exactly one .redeemed")
    func redeemAcrossReplicas() async throws {
        try await Self.withReplicas { a, b in
            try await a.saveCode(F.code(), hash: "h1")
            let results = try await withThrowingTaskGroup(of: CodeRedemption.self) { group in
                for i in 0..<20 {
                    let store = i.isMultiple(of: 2) ? a : b
                    group.addTask { try await store.redeemCode(hash: "h1", now: F.t0) }
                }
                return try await group.reduce(into: [CodeRedemption]()) { $0.append($1) }
            }
            #expect(results.filter { $0 == .redeemed(F.code()) }.count == 1)
        }
    }

    // Rule 7 across replicas.
    @Test("one refresh token rotated from two replicas at once: exactly one rotation")
    func rotateAcrossReplicas() async throws {
        try await Self.withReplicas { a, b in
            _ = try await a.createGrant(F.grant(), refreshTokenHash: "r1", refreshToken: F.refresh())
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    let store = i.isMultiple(of: 2) ? a : b
                    group.addTask {
                        try await store.rotate(
                            oldHash: "r1", rotatedAt: F.t0, sealedSuccessor: "s\(i)", successorHash: "succ-\(i)",
                            successor: F.refresh(), upstream: F.upstream("\(i)"))
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
        }
    }

    // Rule 5 across replicas.
    @Test("one transaction consumed from two replicas at once: exactly one gets it")
    func consumeAcrossReplicas() async throws {
        try await Self.withReplicas { a, b in
            try await a.saveTransaction(F.transaction(), id: "t1", expiresAt: F.t0.addingTimeInterval(600))
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    let store = i.isMultiple(of: 2) ? a : b
                    group.addTask { try await store.consumeTransaction(id: "t1", now: F.t0) != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
        }
    }

    // ShimStore.swift: "for a store shared by replicas, in any replica. Only one upstream
    // refresh of a grant is ever in flight."
    @Test("withRefreshLock excludes a second replica")
    func refreshLockAcrossReplicas() async throws {
        try await Self.withReplicas { a, b in
            let gauge = Gauge()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<8 {
                    let store = i.isMultiple(of: 2) ? a : b
                    group.addTask {
                        try await store.withRefreshLock(grantID: "grant-1") {
                            await gauge.enter()
                            try await Task.sleep(for: .milliseconds(30))
                            await gauge.leave()
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(await gauge.maximum == 1)
            #expect(await gauge.entries == 8)
        }
    }

    // Threat T23: the advisory lock held a pooled connection while the
    // body took more from the same pool (10), so a burst of refreshes of
    // distinct grants deadlocked the replica. Rule 10: no request holds a
    // pooled resource while it waits for another.
    @Test("a burst of refreshes of 30 distinct grants on two replicas, a slow upstream: all finish")
    func refreshBurstBeyondPoolSize() async throws {
        try await Self.withReplicas { a, b in
            for i in 0..<30 {
                _ = try await a.createGrant(F.grant("grant-\(i)"), refreshTokenHash: "burst-\(i)", refreshToken: F.refresh(grantID: "grant-\(i)"))
            }
            let finished = Counter()
            let work = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<30 {
                        let store = i.isMultiple(of: 2) ? a : b
                        group.addTask {
                            try await store.withRefreshLock(grantID: "grant-\(i)") {
                                // What the refresh grant does under the lock: read, call the IdP (slow), rotate.
                                _ = try await store.refreshToken(hash: "burst-\(i)")
                                _ = try await store.grant(id: "grant-\(i)")
                                try await Task.sleep(for: .milliseconds(300))
                                let rotated = try await store.rotate(
                                    oldHash: "burst-\(i)", rotatedAt: F.t0, sealedSuccessor: "s", successorHash: "burst-next-\(i)",
                                    successor: F.refresh(grantID: "grant-\(i)"), upstream: F.upstream("\(i)"))
                                #expect(rotated)
                                await finished.increment()
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // Fail (instead of hanging the suite) when the burst does not finish.
            let deadline = ContinuousClock.now + .seconds(20)
            while await finished.value < 30, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            let done = await finished.value
            #expect(done == 30, "refreshes stuck: only \(done) of 30 finished within 20 s")
            if done == 30 { try await work.value } else { work.cancel() }
        }
    }
}

actor Counter {
    private(set) var value = 0
    func increment() { value += 1 }
}
