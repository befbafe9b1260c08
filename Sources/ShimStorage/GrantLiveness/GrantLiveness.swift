public import Foundation
public import ShimCore
import Synchronization

/// "Is this grant still live?" answered from memory, for the gateway's
/// per-request check and the recheck of open streams
/// (`IssuedTokenValidator.checkGrant`), with the store as the truth.
///
/// What is kept: a grant's status as the store last gave it. A revoked one
/// (or a tombstone) stays revoked forever, so it is kept for good; a live
/// one is kept until an invalidation drops it, and is not used past the
/// grant's own `expiresAt` nor longer than `maxLiveAge` (the store is
/// asked again: the backstop for a revocation nobody announced, such as
/// one by a replica of an earlier version during a rolling upgrade). An id
/// the store has never seen is not kept.
///
/// How it learns of revocations (`Freshness`): those this process commits
/// arrive at once through the store's `RevocationFeed`; those of other
/// processes through a probe of the store (SQLite), or a listener
/// (PostgreSQL NOTIFY). When it cannot be sure it heard of every
/// revocation (the listener is down, the probe failed), it answers every
/// request from the store, as if there were no cache.
public final class GrantLiveness: GrantStatusStore, Sendable {
    /// How revocations made by other processes reach this cache.
    public enum Freshness: Sendable {
        /// None can happen: only this process uses the store (memory).
        case inProcess
        /// Other processes may commit to the store (SQLite: the admin
        /// commands run beside the server). `probe` returns a value that
        /// changes whenever one did (SQLite `PRAGMA data_version`); it is
        /// asked at most once per `interval`, and memory is used only within
        /// `interval` of the last answer. A change drops everything kept.
        case probed(interval: Duration, probe: @Sendable () async throws -> Int64)
        /// Replicas tell each other of revocations (PostgreSQL NOTIFY,
        /// `PostgresRevocationListener`): memory is used only while the
        /// listener confirmed, no longer than `window` ago, that it is
        /// listening (`listenerConfirmed(at:)`).
        case listened(window: Duration)
    }

    private struct Kept {
        let status: GrantStatus
        /// When the request that read it began.
        let at: Date
    }

    private struct State {
        var entries: [String: Kept] = [:]
        /// Bumped by every invalidation: a store read that began before one
        /// is not kept (it may predate the revocation).
        var generation: UInt64 = 0
        /// `.probed`: when the last probe began and what it answered.
        var lastProbe: (at: Date, value: Int64)?
        var probing = false
        /// `.listened`: when the last confirmed heartbeat began (nil: unsure).
        var confirmedAt: Date?

        mutating func dropAll() {
            entries.removeAll(keepingCapacity: true)
            generation &+= 1
        }
    }

    let store: any GrantStatusStore
    let clock: any ShimClock
    public let freshness: Freshness
    /// How long a live status is used before the store is asked again.
    public let maxLiveAge: Duration
    /// Past this many kept statuses an arbitrary one is dropped.
    let capacity: Int
    private let state = Mutex(State())

    public static let defaultMaxLiveAge: Duration = .seconds(60)

    public init(
        store: any GrantStatusStore, clock: any ShimClock, freshness: Freshness, maxLiveAge: Duration = GrantLiveness.defaultMaxLiveAge,
        capacity: Int = 65_536
    ) {
        self.store = store
        self.clock = clock
        self.freshness = freshness
        self.maxLiveAge = maxLiveAge
        self.capacity = capacity
    }

    /// Subscribes to the revocations this process commits to the store.
    public func follow(_ feed: RevocationFeed) {
        feed.observe { [weak self] ids in self?.invalidate(grantIDs: ids) }
    }

    public func grantStatus(id: String) async throws -> GrantStatus? {
        let now = clock.now()
        guard await trusted(now: now) else {
            let status = try await store.grantStatus(id: id)
            if let status, status.revoked { keepRevoked(id, status, now: now) }
            return status
        }
        let (kept, generation) = state.withLock { state -> (GrantStatus?, UInt64) in
            guard let entry = state.entries[id] else { return (nil, state.generation) }
            if !entry.status.revoked, isStale(entry, now: now) {
                state.entries[id] = nil
                return (nil, state.generation)
            }
            return (entry.status, state.generation)
        }
        if let kept { return kept }
        let status = try await store.grantStatus(id: id)
        if let status, status.revoked {
            keepRevoked(id, status, now: now)
        } else if let status {
            state.withLock { state in
                guard state.generation == generation else { return }
                if state.entries.count >= capacity, let victim = state.entries.keys.first { state.entries[victim] = nil }
                state.entries[id] = Kept(status: status, at: now)
            }
        }
        return status
    }

    /// A revocation is final, so a revoked status read from the store is
    /// kept whatever happened meanwhile (an invalidation, a probe in flight
    /// that began before the revocation and will report no change): once
    /// one request saw a grant revoked, no later one answers it live.
    private func keepRevoked(_ id: String, _ status: GrantStatus, now: Date) {
        state.withLock { state in
            if state.entries.count >= capacity, state.entries[id] == nil, let victim = state.entries.keys.first { state.entries[victim] = nil }
            state.entries[id] = Kept(status: status, at: now)
        }
    }

    /// A kept live status past the grant's expiry or older than `maxLiveAge`.
    private func isStale(_ entry: Kept, now: Date) -> Bool {
        if let end = entry.status.expiresAt, end <= now { return true }
        return !Self.within(maxLiveAge, from: entry.at, to: now)
    }

    /// Drops what is kept of these grants (a revocation, here or elsewhere).
    public func invalidate(grantIDs: [String]) {
        state.withLock { state in
            for id in grantIDs { state.entries[id] = nil }
            state.generation &+= 1
        }
    }

    /// Drops everything kept.
    public func invalidateAll() {
        state.withLock { $0.dropAll() }
    }

    /// `.listened`: the listening connection answered a heartbeat that
    /// began at `at`, so it was alive then and notices reach it within
    /// milliseconds; memory is trusted until `window` after the last such
    /// `at`. The first confirmation after being unsure drops
    /// everything kept: notifications sent while nobody listened are lost,
    /// so only the store knows what happened meanwhile.
    public func listenerConfirmed(at: Date) {
        state.withLock { state in
            guard let previous = state.confirmedAt else {
                state.dropAll()
                state.confirmedAt = at
                return
            }
            state.confirmedAt = max(previous, at)
        }
    }

    /// `.listened`: the listener stopped (its connection failed, or it is
    /// shutting down); every answer comes from the store until it confirms again.
    public func listenerLost() {
        state.withLock { state in
            state.confirmedAt = nil
            state.dropAll()
        }
    }

    /// `.listened`: the listener has confirmed and not been lost since.
    public var isListening: Bool { state.withLock { $0.confirmedAt != nil } }

    /// Whether memory may answer at `now`; a due probe runs first.
    private func trusted(now: Date) async -> Bool {
        switch freshness {
        case .inProcess:
            return true
        case .listened(let window):
            return state.withLock { state in
                guard let at = state.confirmedAt else { return false }
                return Self.within(window, from: at, to: now)
            }
        case .probed(let interval, let probe):
            let due = state.withLock { state -> Bool? in
                if let last = state.lastProbe, Self.within(interval, from: last.at, to: now) { return false }
                // One probe at a time; the requests meanwhile read the store.
                if state.probing { return nil }
                state.probing = true
                return true
            }
            guard let due else { return false }
            guard due else { return true }
            let value: Int64
            do {
                value = try await probe()
            } catch {
                state.withLock { $0.probing = false }
                return false
            }
            state.withLock { state in
                state.probing = false
                if state.lastProbe?.value != value { state.dropAll() }
                state.lastProbe = (now, value)
            }
            return true
        }
    }

    /// `now` is no later than `duration` after `start` (and not before it:
    /// a clock set back does not extend trust).
    static func within(_ duration: Duration, from start: Date, to now: Date) -> Bool {
        let elapsed = now.timeIntervalSince(start)
        return elapsed >= 0 && elapsed < seconds(duration)
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (whole, fraction) = duration.components
        return TimeInterval(whole) + TimeInterval(fraction) / 1e18
    }
}
