public import Foundation

/// A fixed-window counter per key (client address at /register): at most
/// `limit` events per `window`; the answer to a refused event is how many
/// seconds until the window resets (`Retry-After`, RFC 9110 §10.2.3).
public struct FixedWindowLimiter: Sendable {
    public let limit: Int
    public let window: TimeInterval
    private var windows: [String: (start: Date, count: Int)] = [:]
    private let maxKeys: Int

    public init(limit: Int, window: TimeInterval, maxKeys: Int = 100_000) {
        self.limit = limit
        self.window = window
        self.maxKeys = maxKeys
    }

    /// Counts one event; nil when allowed, else the seconds to wait.
    public mutating func attempt(_ key: String, now: Date) -> Int? {
        attempt(key, now: now, limit: limit)
    }

    /// Counts one event against `limit` rather than the limit this limiter
    /// was made with: the counts outlive a configuration reload, and a
    /// reloaded limit applies to the events already counted (a lower one
    /// refuses at once a key already past it).
    public mutating func attempt(_ key: String, now: Date, limit: Int) -> Int? {
        guard limit > 0 else { return nil }
        if windows.count >= maxKeys {
            windows = windows.filter { now.timeIntervalSince($0.value.start) < window }
            // Still full (a flood from many addresses): forget the oldest half,
            // so memory stays bounded; those addresses start a fresh window.
            if windows.count >= maxKeys {
                let keep = windows.sorted { $0.value.start > $1.value.start }.prefix(maxKeys / 2)
                windows = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
            }
        }
        var entry = windows[key] ?? (now, 0)
        if now.timeIntervalSince(entry.start) >= window { entry = (now, 0) }
        guard entry.count < limit else {
            return max(1, Int((window - now.timeIntervalSince(entry.start)).rounded(.up)))
        }
        entry.count += 1
        windows[key] = entry
        return nil
    }
}
