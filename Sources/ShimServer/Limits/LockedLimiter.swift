import Foundation
import ShimCore
import Synchronization

/// The registration rate limiter, shared by all requests of this process.
final class LockedLimiter: Sendable {
    private let state: Mutex<FixedWindowLimiter>

    init(_ limiter: FixedWindowLimiter) {
        state = Mutex(limiter)
    }

    /// nil when allowed, else seconds until the caller may retry.
    func attempt(_ key: String, now: Date) -> Int? {
        state.withLock { $0.attempt(key, now: now) }
    }

    /// As `attempt(_:now:)`, against `limit` (the configured number of the
    /// moment; the counts are kept across reloads).
    func attempt(_ key: String, now: Date, limit: Int) -> Int? {
        state.withLock { $0.attempt(key, now: now, limit: limit) }
    }
}
