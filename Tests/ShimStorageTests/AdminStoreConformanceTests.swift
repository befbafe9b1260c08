import Foundation
import ShimCore
import ShimStorage
import ShimTesting
import Testing

/// AuditStore, AdminStore and the per-grant refresh lock (ShimStore.swift),
/// run against every store.
@Suite("Store conformance: audit trail, admin queries, refresh lock")
struct AdminStoreConformanceTests {
    typealias F = StoreFixtures

    static func event(_ seconds: TimeInterval, _ kind: AuditEvent.Kind = .grantIssued, client: String = "client-1") -> AuditEvent {
        AuditEvent(
            at: F.t0.addingTimeInterval(seconds), kind: kind, clientID: client, clientName: "Test", redirectHost: "app.example.com",
            subject: "user-1", resource: "https://mcp.example.com/mcp", scope: "mcp.read", detail: "grant abcd1234")
    }

    @Test("the audit trail lists events oldest first, from `since`, up to `limit`", arguments: StoreKind.available)
    func auditTrail(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            let events = [Self.event(0, .registration), Self.event(10, .consentGiven), Self.event(20, .grantIssued)]
            for event in events { try await store.appendAudit(event) }
            #expect(try await store.auditEvents(since: nil, limit: 10) == events)
            #expect(try await store.auditEvents(since: F.t0.addingTimeInterval(10), limit: 10) == Array(events[1...]))
            #expect(try await store.auditEvents(since: nil, limit: 1) == [events[0]])
            #expect(try await store.auditEvents(since: F.t0.addingTimeInterval(21), limit: 10).isEmpty)
        }
    }

    @Test("listClients is newest first, with the used mark; deleteClient deletes once", arguments: StoreKind.available)
    func listAndDeleteClients(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.insertClient(F.client("old", createdAt: F.t0))
            try await store.insertClient(F.client("new", createdAt: F.t0.addingTimeInterval(10)))
            try await store.markClientUsed(id: "old", at: F.t0.addingTimeInterval(5))
            let listed = try await store.listClients(limit: 10)
            #expect(listed.map(\.clientID) == ["new", "old"])
            #expect(listed.last?.usedAt == F.t0.addingTimeInterval(5))
            #expect(try await store.listClients(limit: 1).map(\.clientID) == ["new"])
            #expect(try await store.deleteClient(id: "old"))
            #expect(try await store.deleteClient(id: "old") == false)
            #expect(try await store.client(id: "old") == nil)
            #expect(try await store.countClients() == 1)
        }
    }

    @Test("listGrants is newest first, per client, without tombstones", arguments: StoreKind.available)
    func listGrants(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            // Created a second apart, in this order (the clock decides "newest").
            for (i, (id, client)) in [("g1", "client-1"), ("g2", "client-2"), ("g3", "client-1")].enumerated() {
                _ = try await store.createGrant(
                    F.grant(id, client: client, createdAt: F.t0.addingTimeInterval(TimeInterval(i))),
                    refreshTokenHash: "r-" + id, refreshToken: F.refresh(grantID: id))
            }
            try await store.revokeGrant(id: "tombstone", at: F.t0)
            try await store.revokeGrant(id: "g1", at: F.t0.addingTimeInterval(1))
            #expect(try await store.listGrants(clientID: nil, limit: 10).map(\.id) == ["g3", "g2", "g1"])
            let mine = try await store.listGrants(clientID: "client-1", limit: 10)
            #expect(mine.map(\.id) == ["g3", "g1"])
            #expect(mine.last?.revokedAt == F.t0.addingTimeInterval(1))
            #expect(try await store.listGrants(clientID: "client-1", limit: 1).map(\.id) == ["g3"])
        }
    }

    @Test("revokeGrants revokes every live grant of one client and counts them", arguments: StoreKind.available)
    func revokeGrantsOfClient(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            _ = try await store.createGrant(F.grant("g1", client: "client-1"), refreshTokenHash: "r1", refreshToken: F.refresh(grantID: "g1"))
            _ = try await store.createGrant(F.grant("g2", client: "client-1"), refreshTokenHash: "r2", refreshToken: F.refresh(grantID: "g2"))
            _ = try await store.createGrant(F.grant("g3", client: "client-2"), refreshTokenHash: "r3", refreshToken: F.refresh(grantID: "g3"))
            try await store.revokeGrant(id: "g2", at: F.t0)
            #expect(try await store.revokeGrants(clientID: "client-1", at: F.t0.addingTimeInterval(9)) == 1)
            #expect(try await store.grant(id: "g1")?.revokedAt == F.t0.addingTimeInterval(9))
            #expect(try await store.grant(id: "g2")?.revokedAt == F.t0)
            #expect(try await store.grant(id: "g3")?.revokedAt == nil)
            #expect(try await store.revokeGrants(clientID: "client-1", at: F.t0.addingTimeInterval(20)) == 0)
        }
    }

    // Rule 7: "Only one upstream refresh of a grant is ever in flight."
    @Test("withRefreshLock runs one body per grant at a time", arguments: StoreKind.available)
    func refreshLockIsExclusive(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            let gauge = Gauge()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await store.withRefreshLock(grantID: "grant-1") {
                            await gauge.enter()
                            try await Task.sleep(for: .milliseconds(20))
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
}

/// Counts how many bodies run at once.
actor Gauge {
    private(set) var current = 0
    private(set) var maximum = 0
    private(set) var entries = 0

    func enter() {
        current += 1
        entries += 1
        maximum = max(maximum, current)
    }

    func leave() { current -= 1 }
}
