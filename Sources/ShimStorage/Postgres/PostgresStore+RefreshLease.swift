import Foundation
import Logging
import PostgresNIO
import ShimCore

/// The cross-replica half of `GrantStore.withRefreshLock`: a lease row per
/// grant in `refresh_leases`.
///
/// Why a lease and not `pg_advisory_lock`: a session advisory lock lives on
/// one connection, which must then stay checked out of the pool for the whole
/// refresh while the refresh itself needs more connections from the same
/// pool. A burst of refreshes of more distinct grants than the pool holds
/// then deadlocked the replica (threat T23). A lease is taken and
/// released by single statements, so a waiting or working refresh holds no
/// connection at all (rule 10, docs/security-rules.md: no request holds a
/// pooled resource while it waits for another).
///
/// - Expiry uses the database's clock (`clock_timestamp()`), so replicas with
///   skewed clocks agree on it.
/// - While the body runs, the lease is renewed every third of its lifetime;
///   a replica that dies mid-refresh blocks that grant for at most
///   `leaseSeconds`, after which another replica takes the lease over.
/// - Should a renewal fail long enough for the lease to expire, a second
///   replica may refresh too; `rotate` stays atomic (row lock, `rotated = 0`),
///   so at most one successor is stored and the loser takes the grace path.
extension PostgresStore {
    /// In-process first (one waiter per grant per replica polls the table),
    /// then the lease shared by every replica.
    public func withRefreshLock<T>(grantID: String, _ body: () async throws -> T) async throws -> T {
        try await refreshLocks.withLock(grantID) {
            let holder = SecretToken.generate(bytes: 16)
            try await acquireLease(grantID: grantID, holder: holder)
            do {
                let value = try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await self.renewLease(grantID: grantID, holder: holder) }
                    defer { group.cancelAll() }
                    return try await body()
                }
                try await releaseLease(grantID: grantID, holder: holder)
                return value
            } catch {
                try? await releaseLease(grantID: grantID, holder: holder)
                throw error
            }
        }
    }

    /// Takes the lease when it is free or expired, else polls with backoff
    /// (25 ms doubling to 250 ms). Gives up after a lease lifetime plus a
    /// margin: by then the holder finished or its lease expired, so not
    /// getting it means the store is failing.
    func acquireLease(grantID: String, holder: String) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(leaseSeconds * 1000) + 5000)
        var pause = Duration.milliseconds(25)
        while true {
            let taken = try await rows(
                """
                INSERT INTO refresh_leases (grant_id, holder, expires_at)
                VALUES (\(grantID), \(holder), extract(epoch from clock_timestamp()) + \(leaseSeconds))
                ON CONFLICT (grant_id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                WHERE refresh_leases.expires_at < extract(epoch from clock_timestamp())
                RETURNING holder
                """)
            if !taken.isEmpty { return }
            guard ContinuousClock.now < deadline else { throw StoreBusy("timed out waiting for another replica's refresh of this grant") }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(250))
        }
    }

    /// Extends the lease every third of its lifetime until cancelled.
    func renewLease(grantID: String, holder: String) async {
        while true {
            do { try await Task.sleep(for: .milliseconds(Int64(leaseSeconds * 1000 / 3))) } catch { return }
            do {
                _ = try await rows(
                    """
                    UPDATE refresh_leases SET expires_at = extract(epoch from clock_timestamp()) + \(leaseSeconds)
                    WHERE grant_id = \(grantID) AND holder = \(holder)
                    """)
            } catch {
                logger.warning("refresh lease renewal failed", metadata: ["grant": "\(grantID.prefix(8))", "error": "\(error)"])
            }
        }
    }

    func releaseLease(grantID: String, holder: String) async throws {
        _ = try await rows("DELETE FROM refresh_leases WHERE grant_id = \(grantID) AND holder = \(holder)")
    }
}
