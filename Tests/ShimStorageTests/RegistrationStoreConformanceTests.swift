import Foundation
import ShimCore
import ShimStorage
import Testing

/// `ClientStore.registerClient` (the write path scaled for load): the
/// registration and its audit row in one commit, within the cap, and a
/// client count that costs O(1) yet stays right through deletes, purges,
/// restarts and replicas.
@Suite("Store conformance: registration, its audit row and the client count")
struct RegistrationStoreConformanceTests {
    typealias F = StoreFixtures

    static func event(_ id: String) -> AuditEvent {
        AuditEvent(at: F.t0, kind: .registration, clientID: id, clientName: "Test \(id)", redirectHost: "app.example.com")
    }

    @Test("a registration stores the client and its audit row together", arguments: StoreKind.available)
    func clientAndAudit(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            #expect(try await store.registerClient(F.client("c1"), audit: Self.event("c1"), maxClients: 10))
            #expect(try await store.client(id: "c1") == F.client("c1"))
            #expect(try await store.auditEvents(since: nil, limit: 10) == [Self.event("c1")])
            #expect(try await store.countClients() == 1)
        }
    }

    @Test("at the cap nothing is stored, neither client nor audit row", arguments: StoreKind.available)
    func capStoresNothing(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            #expect(try await store.registerClient(F.client("c1"), audit: Self.event("c1"), maxClients: 2))
            #expect(try await store.registerClient(F.client("c2"), audit: Self.event("c2"), maxClients: 2))
            #expect(try await store.registerClient(F.client("c3"), audit: Self.event("c3"), maxClients: 2) == false)
            #expect(try await store.client(id: "c3") == nil)
            #expect(try await store.auditEvents(since: nil, limit: 10).map(\.clientID) == ["c1", "c2"])
            #expect(try await store.countClients() == 2)
        }
    }

    @Test("the count follows inserts, deletes and purges, and a freed place can be taken again", arguments: StoreKind.available)
    func countFollowsEveryPath(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            for i in 0..<5 { try await store.insertClient(F.client("c\(i)", createdAt: F.t0.addingTimeInterval(Double(i)))) }
            #expect(try await store.registerClient(F.client("r"), audit: Self.event("r"), maxClients: 6))
            #expect(try await store.countClients() == 6)
            #expect(try await store.deleteClient(id: "c0"))
            #expect(try await store.deleteClient(id: "c0") == false)
            #expect(try await store.countClients() == 5)
            try await store.markClientUsed(id: "c4", at: F.t0)
            #expect(try await store.purgeUnusedClients(createdBefore: F.t0.addingTimeInterval(3.5)) == 4)  // c1, c2, c3 and r
            #expect(try await store.countClients() == 1)
            #expect(try await store.registerClient(F.client("again"), audit: Self.event("again"), maxClients: 2))
            #expect(try await store.registerClient(F.client("over"), audit: Self.event("over"), maxClients: 2) == false)
        }
    }

    @Test(
        "many concurrent registrations: every one stored with its audit row; the cap holds exactly on one store",
        arguments: StoreKind.available)
    func concurrentRegistrations(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<200 {
                    group.addTask { try await store.registerClient(F.client("c\(i)"), audit: Self.event("c\(i)"), maxClients: 150) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            if kind == .postgres {
                // Concurrent transactions each see the others' rows only once
                // committed: the documented overshoot, never more than the racers.
                #expect(accepted >= 150 && accepted <= 200)
            } else {
                #expect(accepted == 150)
            }
            #expect(try await store.countClients() == accepted)
            #expect(try await store.listClients(limit: 1000).count == accepted)
            #expect(try await store.auditEvents(since: nil, limit: 1000).count == accepted)
        }
    }
}

/// SQLite specifics: the group commit and the counter's migration.
@Suite("SQLiteStore group commit and client counter")
struct SQLiteGroupCommitTests {
    typealias F = StoreFixtures

    @Test("concurrent writes share commits (group commit), and every acknowledged write is there after reopening")
    func writesShareCommits() async throws {
        let path = F.temporaryDatabasePath()
        defer { F.removeDatabase(at: path) }
        let store = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask {
                    _ = try await store.registerClient(
                        F.client("c\(i)"), audit: RegistrationStoreConformanceTests.event("c\(i)"),
                        maxClients: 1000)
                }
            }
            try await group.waitForAll()
        }
        let statistics = store.writeStatistics
        #expect(statistics.writes == 200)
        #expect(statistics.commits < statistics.writes, "\(statistics)")
        try await store.close()
        let reopened = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        #expect(try await reopened.countClients() == 200)
        #expect(try await reopened.auditEvents(since: nil, limit: 1000).count == 200)
        try await reopened.close()
    }

    @Test("a write that fails in a batch fails alone; the others of its batch commit")
    func failureIsolated() async throws {
        try await StoreKind.sqlite.with { store async throws in
            try await store.insertClient(F.client("taken"))
            let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
                for id in ["a", "taken", "b", "c", "taken", "d"].enumerated().map({ "\($1)" + ($1 == "taken" ? "" : "\($0)") }) {
                    group.addTask { (id, (try? await store.insertClient(F.client(id))) != nil) }
                }
                return await group.reduce(into: [String: [Bool]]()) { $0[$1.0, default: []].append($1.1) }
            }
            #expect(outcomes["taken"] == [false, false])
            for id in ["a0", "b2", "c3", "d5"] {
                #expect(outcomes[id] == [true])
                #expect(try await store.client(id: id) != nil)
            }
            #expect(try await store.countClients() == 5)
        }
    }

    @Test("a database from before the counter: the count is seeded from its rows once")
    func counterSeededFromExistingRows() async throws {
        let path = F.temporaryDatabasePath()
        defer { F.removeDatabase(at: path) }
        let store = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        for i in 0..<7 { try await store.insertClient(F.client("c\(i)")) }
        try await store.close()
        // Simulate the version-1 schema: no counter table, no triggers.
        try SQLiteScript.run(path, "DROP TRIGGER clients_counted_insert; DROP TRIGGER clients_counted_delete; DROP TABLE counters;")
        let upgraded = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        #expect(try await upgraded.countClients() == 7)
        try await upgraded.insertClient(F.client("c7"))
        #expect(try await upgraded.countClients() == 8)
        try await upgraded.close()
        let again = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        #expect(try await again.countClients() == 8)
        try await again.close()
    }
}

extension SQLiteGroupCommitTests {
    @Test("a database from before grants had expires_at: filled from the JSON body, so expired grants are purged")
    func grantExpiryBackfilled() async throws {
        let path = F.temporaryDatabasePath()
        defer { F.removeDatabase(at: path) }
        let store = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        var expired = F.grant("old")
        expired.expiresAt = F.t0
        #expect(try await store.createGrant(expired, refreshTokenHash: "r-old", refreshToken: F.refresh(grantID: "old")))
        #expect(try await store.createGrant(F.grant("live"), refreshTokenHash: "r-live", refreshToken: F.refresh(grantID: "live")))
        try await store.close()
        try SQLiteScript.run(path, "DROP INDEX grants_expiry; ALTER TABLE grants DROP COLUMN expires_at;")
        let upgraded = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        #expect(try await upgraded.purgeExpired(now: F.t0.addingTimeInterval(1)).grants == 1)
        #expect(try await upgraded.grant(id: "old") == nil)
        #expect(try await upgraded.refreshToken(hash: "r-old") == nil)
        #expect(try await upgraded.grant(id: "live") != nil)
        try await upgraded.close()
    }
}

/// Two replicas on one PostgreSQL database share the client count.
@Suite("PostgresStore client count across replicas", .enabled(if: PostgresTestDatabase.adminURL != nil))
struct PostgresClientCountTests {
    typealias F = StoreFixtures

    @Test("registrations and deletes on either replica are counted by both")
    func sharedCount() async throws {
        try await PostgresReplicaTests.withReplicas { a, b async throws in
            for i in 0..<30 {
                let store = i.isMultiple(of: 2) ? a : b
                #expect(try await store.registerClient(F.client("c\(i)"), audit: RegistrationStoreConformanceTests.event("c\(i)"), maxClients: 40))
            }
            #expect(try await a.countClients() == 30)
            #expect(try await b.countClients() == 30)
            #expect(try await b.deleteClient(id: "c0"))
            #expect(try await a.purgeUnusedClients(createdBefore: F.t0.addingTimeInterval(1)) == 29)
            #expect(try await a.countClients() == 0)
            #expect(try await b.countClients() == 0)
            for i in 0..<3 {
                #expect(
                    try await b.registerClient(F.client("d\(i)"), audit: RegistrationStoreConformanceTests.event("d\(i)"), maxClients: 2) == (i < 2))
            }
        }
    }
}

/// Runs SQL on a database file with Debian's `sqlite3` shell (scripts/install-deps.sh installs it).
enum SQLiteScript {
    static func run(_ path: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed() }
    }

    struct Failed: Error {}
}
