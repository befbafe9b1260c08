import Foundation
import ShimCore
import ShimStorage
import ShimTesting
import Synchronization
import Testing

/// A grant-status store that counts its reads and can be told what to
/// answer, or to fail, or to run something while it reads.
final class ScriptedStatusStore: GrantStatusStore {
    private struct State {
        var statuses: [String: GrantStatus] = [:]
        var reads = 0
        var failing = false
    }
    private let state = Mutex(State())
    /// Runs inside every read, before it answers (a revocation racing the read).
    let duringRead: Mutex<(@Sendable () -> Void)?> = Mutex(nil)

    func set(_ id: String, _ status: GrantStatus?) { state.withLock { $0.statuses[id] = status } }
    func fail(_ failing: Bool) { state.withLock { $0.failing = failing } }
    var reads: Int { state.withLock { $0.reads } }

    func grantStatus(id: String) async throws -> GrantStatus? {
        duringRead.withLock { $0 }?()
        return try state.withLock { state in
            state.reads += 1
            if state.failing { throw StoreDown() }
            return state.statuses[id]
        }
    }

    struct StoreDown: Error {}
}

/// `GrantLiveness`: the gateway's "is this grant revoked?" answered from
/// memory, with the store as the truth.
@Suite("GrantLiveness: grant status from memory")
struct GrantLivenessTests {
    typealias F = StoreFixtures
    static let live = GrantStatus(clientID: "client-1", revoked: false, expiresAt: Date(timeIntervalSince1970: 1_800_086_400))
    static let revoked = GrantStatus(clientID: "client-1", revoked: true, expiresAt: Date(timeIntervalSince1970: 1_800_086_400))

    /// A probe that began before another process's revocation can finish
    /// after a request read the store (while it was in flight) and saw the
    /// revocation: the probe reports no change, yet the revoked answer must
    /// stand. Once any request saw a grant revoked, every later one does.
    @Test("a revocation seen by a store read during a slow probe is kept: the answer never goes back to live")
    func revokedSeenDuringProbeIsKept() async throws {
        let store = ScriptedStatusStore()
        store.set("g", Self.live)
        let clock = TestClock()
        let (released, release) = AsyncStream<Void>.makeStream()
        let probes = Mutex(0)
        let liveness = GrantLiveness(
            store: store, clock: clock,
            freshness: .probed(
                interval: .milliseconds(100),
                probe: {
                    let n = probes.withLock { count -> Int in
                        count += 1
                        return count
                    }
                    if n == 2 { for await _ in released { break } }  // the slow one
                    return 7  // another process's commit not seen by this probe
                }))
        #expect(try await liveness.grantStatus(id: "g") == Self.live)
        clock.advance(by: 0.2)
        store.set("g", Self.revoked)
        let slow = Task { try await liveness.grantStatus(id: "g") }
        while probes.withLock({ $0 }) < 2 { await Task.yield() }
        // The probe is in flight: this request reads the store.
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
        release.yield()
        release.finish()
        _ = try await slow.value
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
    }

    @Test("a live grant is read from the store once, then answered from memory")
    func hit() async throws {
        let store = ScriptedStatusStore()
        store.set("g", Self.live)
        let liveness = GrantLiveness(store: store, clock: TestClock(), freshness: .inProcess)
        #expect(try await liveness.grantStatus(id: "g") == Self.live)
        #expect(try await liveness.grantStatus(id: "g") == Self.live)
        #expect(store.reads == 1)
    }

    @Test("an id the store has never seen is not kept")
    func unknownNotKept() async throws {
        let store = ScriptedStatusStore()
        let liveness = GrantLiveness(store: store, clock: TestClock(), freshness: .inProcess)
        #expect(try await liveness.grantStatus(id: "g") == nil)
        store.set("g", Self.live)
        #expect(try await liveness.grantStatus(id: "g") == Self.live)
    }

    @Test("a revoked grant is kept for good")
    func revokedKept() async throws {
        let store = ScriptedStatusStore()
        store.set("g", Self.revoked)
        let liveness = GrantLiveness(store: store, clock: TestClock(), freshness: .inProcess)
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
        store.set("g", Self.live)
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
        #expect(store.reads == 1)
    }

    @Test("a kept live status is not used past the grant's expiry: the store is asked again")
    func expiryCheckedPerRequest() async throws {
        let clock = TestClock()
        let store = ScriptedStatusStore()
        let status = GrantStatus(clientID: "client-1", revoked: false, expiresAt: clock.now().addingTimeInterval(60))
        store.set("g", status)
        let liveness = GrantLiveness(store: store, clock: clock, freshness: .inProcess)
        _ = try await liveness.grantStatus(id: "g")
        clock.advance(by: 59)
        _ = try await liveness.grantStatus(id: "g")
        #expect(store.reads == 1)
        clock.advance(by: 1)
        store.set("g", nil)  // purged by housekeeping
        #expect(try await liveness.grantStatus(id: "g") == nil)
        #expect(store.reads == 2)
    }

    @Test("a kept live status is read again after maxLiveAge (a revocation nobody announced)")
    func maxLiveAge() async throws {
        let clock = TestClock()
        let store = ScriptedStatusStore()
        store.set("g", Self.live)
        let liveness = GrantLiveness(store: store, clock: clock, freshness: .inProcess, maxLiveAge: .seconds(60))
        _ = try await liveness.grantStatus(id: "g")
        store.set("g", Self.revoked)  // revoked without a notice
        clock.advance(by: 59)
        #expect(try await liveness.grantStatus(id: "g")?.revoked == false)
        clock.advance(by: 1)
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
        #expect(store.reads == 2)
    }

    @Test("a revocation committed by this process invalidates at once (memory store, revokeGrant and revokeGrants)")
    func inProcessInvalidation() async throws {
        let memory = MemoryStore()
        let store: any ShimStore = memory
        let wiring = try #require(GrantLivenessWiring.make(for: memory, clock: TestClock(), logger: F.quietLogger))
        #expect(wiring.listener == nil)
        #expect(try await store.createGrant(F.grant("g1"), refreshTokenHash: "r1", refreshToken: F.refresh(grantID: "g1")))
        #expect(try await store.createGrant(F.grant("g2"), refreshTokenHash: "r2", refreshToken: F.refresh(grantID: "g2")))
        #expect(try await wiring.liveness.grantStatus(id: "g1")?.revoked == false)
        #expect(try await wiring.liveness.grantStatus(id: "g2")?.revoked == false)
        try await store.revokeGrant(id: "g1", at: F.t0)
        #expect(try await wiring.liveness.grantStatus(id: "g1")?.revoked == true)
        #expect(try await wiring.liveness.grantStatus(id: "g2")?.revoked == false)
        #expect(try await store.revokeGrants(clientID: "client-1", at: F.t0) == 1)
        #expect(try await wiring.liveness.grantStatus(id: "g2")?.revoked == true)
    }

    @Test("a read that a revocation overtakes is not kept")
    func racingReadNotKept() async throws {
        let store = ScriptedStatusStore()
        store.set("g", Self.live)
        let liveness = GrantLiveness(store: store, clock: TestClock(), freshness: .inProcess)
        store.duringRead.withLock { $0 = { liveness.invalidate(grantIDs: ["g"]) } }
        #expect(try await liveness.grantStatus(id: "g") == Self.live)
        store.duringRead.withLock { $0 = nil }
        store.set("g", Self.revoked)
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
    }

    @Test("probed: memory answers within the interval; a change of the probe's value is picked up once the interval has passed")
    func probedBound() async throws {
        let clock = TestClock()
        let store = ScriptedStatusStore()
        store.set("g", Self.live)
        let version = Locked<Int64>(1)
        let probes = Locked(0)
        let liveness = GrantLiveness(
            store: store, clock: clock,
            freshness: .probed(
                interval: .milliseconds(100),
                probe: {
                    probes.withLock { $0 += 1 }
                    return version.withLock { $0 }
                }))
        #expect(try await liveness.grantStatus(id: "g") == Self.live)
        // Another process revokes: the store says so, the probe's value moves.
        store.set("g", Self.revoked)
        version.withLock { $0 = 2 }
        clock.advance(by: 0.099)
        #expect(try await liveness.grantStatus(id: "g") == Self.live)
        #expect(probes.current == 1)
        clock.advance(by: 0.002)
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
        #expect(probes.current == 2)
        #expect(store.reads == 2)
    }

    @Test("probed: an unchanged value keeps what is kept")
    func probedUnchanged() async throws {
        let clock = TestClock()
        let store = ScriptedStatusStore()
        store.set("g", Self.live)
        let liveness = GrantLiveness(store: store, clock: clock, freshness: .probed(interval: .milliseconds(100), probe: { 7 }))
        _ = try await liveness.grantStatus(id: "g")
        clock.advance(by: 5)
        _ = try await liveness.grantStatus(id: "g")
        #expect(store.reads == 1)
    }

    @Test("probed: a failing probe falls back to the store on every request")
    func probeFailureReadsStore() async throws {
        let store = ScriptedStatusStore()
        store.set("g", Self.live)
        let liveness = GrantLiveness(
            store: store, clock: TestClock(), freshness: .probed(interval: .milliseconds(100), probe: { throw ScriptedStatusStore.StoreDown() }))
        _ = try await liveness.grantStatus(id: "g")
        store.set("g", Self.revoked)
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
        #expect(store.reads == 2)
    }

    @Test("listened: unsure until the listener confirms; then memory; past the window or once lost, the store again")
    func listenedUnsureMode() async throws {
        let clock = TestClock()
        let store = ScriptedStatusStore()
        store.set("g", Self.live)
        let liveness = GrantLiveness(store: store, clock: clock, freshness: .listened(window: .milliseconds(1500)))
        // Unsure: every request reads the store.
        _ = try await liveness.grantStatus(id: "g")
        _ = try await liveness.grantStatus(id: "g")
        #expect(store.reads == 2)
        liveness.listenerConfirmed(at: clock.now())
        _ = try await liveness.grantStatus(id: "g")
        _ = try await liveness.grantStatus(id: "g")
        #expect(store.reads == 3)
        // No heartbeat for longer than the window: unsure again.
        clock.advance(by: 1.5)
        _ = try await liveness.grantStatus(id: "g")
        #expect(store.reads == 4)
        // A revocation while the listener is down is seen from the store,
        // and the first confirmation after it drops what was kept.
        liveness.listenerConfirmed(at: clock.now())
        _ = try await liveness.grantStatus(id: "g")
        #expect(store.reads == 4)
        liveness.listenerLost()
        store.set("g", Self.revoked)
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
        #expect(store.reads == 5)
        // Listening again: what was kept before is gone, the store is asked.
        liveness.listenerConfirmed(at: clock.now())
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
        #expect(store.reads == 6)
    }

    @Test("listened: a notice drops the grant at once")
    func listenedNotice() async throws {
        let clock = TestClock()
        let store = ScriptedStatusStore()
        store.set("g", Self.live)
        let liveness = GrantLiveness(store: store, clock: clock, freshness: .listened(window: .milliseconds(1500)))
        liveness.listenerConfirmed(at: clock.now())
        _ = try await liveness.grantStatus(id: "g")
        store.set("g", Self.revoked)
        liveness.invalidate(grantIDs: ["g"])
        #expect(try await liveness.grantStatus(id: "g")?.revoked == true)
    }

    @Test("store errors propagate (the gateway answers 503, never live)")
    func storeErrorPropagates() async throws {
        let store = ScriptedStatusStore()
        store.fail(true)
        let liveness = GrantLiveness(store: store, clock: TestClock(), freshness: .inProcess)
        await #expect(throws: ScriptedStatusStore.StoreDown.self) { try await liveness.grantStatus(id: "g") }
    }

    @Test("SQLite: a revocation committed by another process on the file is seen once the probe interval has passed")
    func sqliteDataVersion() async throws {
        let path = F.temporaryDatabasePath()
        defer { F.removeDatabase(at: path) }
        let server = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        let admin = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        let clock = TestClock(F.t0)  // the fixtures' grants are live at t0 (an expired grant is never kept)
        let wiring = try #require(GrantLivenessWiring.make(for: server, clock: clock, logger: F.quietLogger))
        #expect(try await server.createGrant(F.grant("g1"), refreshTokenHash: "r1", refreshToken: F.refresh(grantID: "g1")))
        #expect(try await server.createGrant(F.grant("g2"), refreshTokenHash: "r2", refreshToken: F.refresh(grantID: "g2")))
        #expect(try await wiring.liveness.grantStatus(id: "g1")?.revoked == false)
        #expect(try await wiring.liveness.grantStatus(id: "g2")?.revoked == false)
        // This process's own writes do not move data_version.
        clock.advance(by: 0.2)
        #expect(try await wiring.liveness.grantStatus(id: "g1")?.revoked == false)
        // `dcr-shim grants revoke` is another connection on the same file.
        try await admin.revokeGrant(id: "g1", at: F.t0)
        #expect(try await wiring.liveness.grantStatus(id: "g1")?.revoked == false)  // within the bound
        clock.advance(by: 0.101)
        #expect(try await wiring.liveness.grantStatus(id: "g1")?.revoked == true)
        // And this process's own revocation: at once.
        try await server.revokeGrant(id: "g2", at: F.t0)
        #expect(try await wiring.liveness.grantStatus(id: "g2")?.revoked == true)
        try await server.close()
        try await admin.close()
    }
}

/// The premise of the SQLite probe.
@Suite("SQLiteStore.dataVersion")
struct SQLiteDataVersionTests {
    typealias F = StoreFixtures

    @Test("data_version moves for another connection's commit, not for this store's own writes")
    func movesForOthersOnly() async throws {
        let path = F.temporaryDatabasePath()
        defer { F.removeDatabase(at: path) }
        let server = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        let admin = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        let start = try await server.dataVersion()
        #expect(try await server.createGrant(F.grant("g1"), refreshTokenHash: "r1", refreshToken: F.refresh(grantID: "g1")))
        try await server.revokeGrant(id: "g1", at: F.t0)
        #expect(try await server.dataVersion() == start)
        try await admin.revokeGrant(id: "g2", at: F.t0)
        #expect(try await server.dataVersion() != start)
        try await server.close()
        try await admin.close()
    }
}

/// The PostgreSQL listener: two stores on one database stand for two replicas.
@Suite("GrantLiveness on PostgreSQL: NOTIFY between replicas", .enabled(if: PostgresTestDatabase.adminURL != nil))
struct PostgresGrantLivenessTests {
    typealias F = StoreFixtures

    @Test("a revocation on another replica reaches this replica's memory through NOTIFY")
    func notifyInvalidates() async throws {
        try await PostgresReplicaTests.withReplicas { a, b in
            let clock = TestClock()
            let wiring = try #require(GrantLivenessWiring.make(for: a, clock: clock, logger: F.quietLogger))
            let listener = try #require(wiring.listener)
            let task = Task { await listener.run() }
            defer { task.cancel() }
            try await Self.eventually { wiring.liveness.isListening }
            #expect(try await b.createGrant(F.grant("g1"), refreshTokenHash: "r1", refreshToken: F.refresh(grantID: "g1")))
            // Kept in memory: the clock never moves, so only a notice can change the answer.
            #expect(try await wiring.liveness.grantStatus(id: "g1")?.revoked == false)
            try await b.revokeGrant(id: "g1", at: F.t0)
            try await Self.eventually { try await wiring.liveness.grantStatus(id: "g1")?.revoked == true }
            // revokeGrants(clientID:) notifies for each grant it revokes.
            #expect(try await b.createGrant(F.grant("g2"), refreshTokenHash: "r2", refreshToken: F.refresh(grantID: "g2")))
            #expect(try await wiring.liveness.grantStatus(id: "g2")?.revoked == false)
            #expect(try await b.revokeGrants(clientID: "client-1", at: F.t0) == 1)
            try await Self.eventually { try await wiring.liveness.grantStatus(id: "g2")?.revoked == true }
            task.cancel()
            await task.value
            #expect(!wiring.liveness.isListening)
        }
    }

    @Test("after the listener stops, the cache is unsure and reads the store")
    func stoppedListenerReadsStore() async throws {
        try await PostgresReplicaTests.withReplicas { a, b in
            let clock = TestClock()
            let wiring = try #require(GrantLivenessWiring.make(for: a, clock: clock, logger: F.quietLogger))
            let listener = try #require(wiring.listener)
            let task = Task { await listener.run() }
            try await Self.eventually { wiring.liveness.isListening }
            #expect(try await b.createGrant(F.grant("g1"), refreshTokenHash: "r1", refreshToken: F.refresh(grantID: "g1")))
            #expect(try await wiring.liveness.grantStatus(id: "g1")?.revoked == false)
            task.cancel()
            await task.value
            #expect(!wiring.liveness.isListening)
            try await b.revokeGrant(id: "g1", at: F.t0)
            #expect(try await wiring.liveness.grantStatus(id: "g1")?.revoked == true)
        }
    }

    /// Polls `condition` for up to 5 seconds.
    static func eventually(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<100 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("condition not met within 5 s")
    }
}
