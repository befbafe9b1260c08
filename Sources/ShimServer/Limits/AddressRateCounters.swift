import ShimCore

/// The per-address counts of this process (`registration.rate_limit`,
/// `authorization.rate_limit`), made once at start and handed to every
/// `ShimServices` a reload builds: a reload changes the limits, never the
/// counts, so a client at its limit does not get a fresh budget from a
/// SIGHUP. The numbers come from the configuration of the moment
/// (`AddressRateLimit.limit`); a lower limit applies at once to what was
/// counted before it.
public struct AddressRateCounters: Sendable {
    let register: LockedLimiter
    let authorize: LockedLimiter

    public init() {
        // The limit given here is never used: every attempt names the configured one.
        register = LockedLimiter(FixedWindowLimiter(limit: 0, window: 60))
        authorize = LockedLimiter(FixedWindowLimiter(limit: 0, window: 60))
    }
}
