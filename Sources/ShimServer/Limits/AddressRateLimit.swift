import Foundation
import Logging
import ShimCore
import ShimStorage

/// A per-client-address limit (registrations, authorization requests):
/// at most `limit` events per minute per address (`ClientAddress` decides
/// what the address is behind proxies).
///
/// On a store that replicas share (PostgreSQL) the count lives in the store,
/// so the limit holds across replicas; otherwise it is
/// counted in this process. Should the shared count fail, this process's own
/// count applies meanwhile (logged), rather than failing the request.
struct AddressRateLimit: Sendable {
    /// Names the counter in the shared store (`register:198.51.100.7`).
    let bucket: String
    let limit: Int
    let windowSeconds = 60
    let local: LockedLimiter
    let shared: (any SharedRateLimitStore)?

    /// `local`: this process's counts, kept across reloads (`AddressRateCounters`).
    init(bucket: String, limit: Int, shared: (any SharedRateLimitStore)?, local: LockedLimiter) {
        self.bucket = bucket
        self.limit = limit
        self.shared = shared
        self.local = local
    }

    /// Counts one event for `address`; nil when allowed, else the seconds
    /// until the caller may retry (`Retry-After`, RFC 9110 §10.2.3).
    func attempt(_ address: String, now: Date, logger: Logger) async -> Int? {
        guard limit > 0 else { return nil }
        if let shared {
            do {
                let count = try await shared.countEvent(key: bucket + ":" + address, windowSeconds: windowSeconds, now: now)
                guard count > limit else { return nil }
                let window = Double(windowSeconds)
                let end = (now.timeIntervalSince1970 / window).rounded(.down) * window + window
                return max(1, Clamp.whole((end - now.timeIntervalSince1970).rounded(.up), into: 1...windowSeconds) ?? windowSeconds)
            } catch {
                logger.warning("shared rate limit unavailable; counting in this replica", metadata: ["bucket": "\(bucket)", "error": "\(error)"])
            }
        }
        return local.attempt(address, now: now, limit: limit)
    }
}
