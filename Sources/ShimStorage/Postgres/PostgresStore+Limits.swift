public import Foundation
import PostgresNIO
import ShimCore

/// Counts for the caps on stored rows and the rate limits shared by replicas.
extension PostgresStore: SharedRateLimitStore {
    /// One atomic upsert per event: a row per key holds the current window's
    /// start and count. Windows are aligned to multiples of their length, so
    /// every replica counts the same window; a replica whose clock lags a
    /// little adds to the newer window instead of resetting it.
    public func countEvent(key: String, windowSeconds: Int, now: Date) async throws -> Int {
        let window = Double(max(1, windowSeconds))
        let start = (now.timeIntervalSince1970 / window).rounded(.down) * window
        let row = try await rows(
            """
            INSERT INTO rate_windows (key, window_start, count) VALUES (\(key), \(start), 1)
            ON CONFLICT (key) DO UPDATE SET
                count = CASE WHEN rate_windows.window_start >= EXCLUDED.window_start THEN rate_windows.count + 1 ELSE 1 END,
                window_start = GREATEST(rate_windows.window_start, EXCLUDED.window_start)
            RETURNING count
            """
        ).first
        return try row.map { Int(try $0.decode(Int32.self)) } ?? 1
    }

    /// The trigger-kept row count of `table` (16 shards summed).
    func count(_ table: String) async throws -> Int {
        try await rows("SELECT coalesce(sum(value), 0)::BIGINT FROM row_counts WHERE name = \(table)").first.map { Int(try $0.decode(Int64.self)) }
            ?? 0
    }

    public func countPending() async throws -> Int {
        try await count("pending_consents")
    }
}
