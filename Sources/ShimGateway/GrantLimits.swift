import Foundation
import Logging
import ShimCore
import ShimStorage
import Synchronization

/// The gateway's per-grant counts of this process: requests in the current
/// minute (when not counted in a shared store) and open streams. Made once
/// at start and handed to every `Gateway` a reload builds, so a reload
/// changes the limits (`gateway.requests_per_minute`,
/// `gateway.max_streams_per_grant`), never the counts: a grant at its limit
/// gets no fresh budget, and the streams it holds open keep their slots (a
/// stream begun before the reload gives its slot back here when it ends).
/// A lower limit applies at once to what was counted before it.
public final class GatewayCounters: Sendable {
    /// Requests per grant in the current window; its own limit is never
    /// used (every attempt names the configured one).
    let requests = Mutex(FixedWindowLimiter(limit: 0, window: 60))
    /// Open streams per grant.
    let streams = Mutex<[String: Int]>([:])

    public init() {}
}

/// `gateway.requests_per_minute`: requests one grant sends per minute
/// (docs/security-rules.md, rule 16: one signed-in client cannot take the
/// MCP server, or the gateway's connections to it, from everyone else).
///
/// On a store that replicas share (PostgreSQL, `SharedRateLimitStore`) the
/// count lives in the store, so N replicas allow what one would; otherwise,
/// and while the shared count fails (logged), it is counted in this process.
final class GrantRateLimit: Sendable {
    let limit: Int
    let windowSeconds = 60
    let shared: (any SharedRateLimitStore)?
    /// This process's counts, kept across reloads.
    private let counters: GatewayCounters

    init(limit: Int, shared: (any SharedRateLimitStore)?, counters: GatewayCounters) {
        self.limit = limit
        self.shared = shared
        self.counters = counters
    }

    /// Counts one request of `grantID`; nil when allowed, else the seconds
    /// until it may retry (`Retry-After`, RFC 9110 §10.2.3).
    func attempt(_ grantID: String, now: Date, logger: Logger) async -> Int? {
        guard limit > 0 else { return nil }
        if let shared {
            do {
                let count = try await shared.countEvent(key: "gateway:" + grantID, windowSeconds: windowSeconds, now: now)
                guard count > limit else { return nil }
                let window = Double(windowSeconds)
                let end = (now.timeIntervalSince1970 / window).rounded(.down) * window + window
                return max(1, min(windowSeconds, Int((end - now.timeIntervalSince1970).rounded(.up))))
            } catch {
                logger.warning("gateway: shared rate limit unavailable; counting in this replica", metadata: ["error": "\(error)"])
            }
        }
        return counters.requests.withLock { $0.attempt(grantID, now: now, limit: limit) }
    }
}

/// `gateway.max_streams_per_grant`: streams (SSE answers) one grant holds
/// open at once in this process. A stream holds a `StreamSlot` for as long
/// as its response body lives; the slot is given back when the body is
/// released, however the stream ended (finished, cut, or never written
/// because the client left first).
///
/// The counts live in `GatewayCounters`, which outlive a reload: the slots
/// a reload's new gateway sees include the streams the old one opened.
final class StreamSlots: Sendable {
    let cap: Int
    private let counters: GatewayCounters

    init(cap: Int, counters: GatewayCounters) {
        self.cap = cap
        self.counters = counters
    }

    /// Whether the grant holds `cap` streams already (0: no cap).
    func isFull(_ grantID: String) -> Bool {
        cap > 0 && counters.streams.withLock { $0[grantID, default: 0] } >= cap
    }

    /// A slot for one more stream of the grant; nil at the cap.
    func acquire(_ grantID: String) -> StreamSlot? {
        let taken = counters.streams.withLock { open -> Bool in
            let count = open[grantID, default: 0]
            if cap > 0, count >= cap { return false }
            open[grantID] = count + 1
            return true
        }
        return taken ? StreamSlot(slots: self, grantID: grantID) : nil
    }

    /// Streams open for the grant now (tests, diagnostics).
    func count(_ grantID: String) -> Int { counters.streams.withLock { $0[grantID, default: 0] } }

    fileprivate func release(_ grantID: String) {
        counters.streams.withLock { open in
            let count = open[grantID, default: 0] - 1
            open[grantID] = count > 0 ? count : nil
        }
    }
}

/// One open stream's hold on its grant's `StreamSlots`: given back when
/// the stream's copy ends (`release`), or else when the response is dropped.
final class StreamSlot: Sendable {
    let slots: StreamSlots
    let grantID: String
    private let held = Atomic<Bool>(true)

    fileprivate init(slots: StreamSlots, grantID: String) {
        self.slots = slots
        self.grantID = grantID
    }

    /// Gives the slot back; later calls do nothing.
    func release() {
        if held.exchange(false, ordering: .acquiringAndReleasing) { slots.release(grantID) }
    }

    deinit { release() }
}
