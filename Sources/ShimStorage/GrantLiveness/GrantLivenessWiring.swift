public import Logging
public import ShimCore

/// The grant-status cache suited to a store, with what must run beside it
/// for the life of the server. The bound within which a revocation made
/// elsewhere reaches this process is stated in docs/tokens-and-gateway.md:
/// - memory: only this process uses the store; its own revocations
///   invalidate at once (`RevocationFeed`);
/// - SQLite: the admin commands are other processes on the same file;
///   `PRAGMA data_version` is probed at most every `sqliteProbeInterval`;
/// - PostgreSQL: replicas NOTIFY each other in the revoking statement; the
///   cache is trusted only within `PostgresRevocationListener.defaultWindow`
///   of the listener's last heartbeat.
public struct GrantLivenessWiring: Sendable {
    public let liveness: GrantLiveness
    /// PostgreSQL: run for the server's life, cancelled on shutdown.
    public let listener: PostgresRevocationListener?

    /// SQLite: how stale memory may be with respect to another process's commit.
    public static let sqliteProbeInterval: Duration = .milliseconds(100)

    /// nil for a store this module does not know (the store is then asked on every request).
    public static func make(for store: any GrantStatusStore, clock: any ShimClock = SystemClock(), logger: Logger) -> GrantLivenessWiring? {
        if let postgres = store as? PostgresStore {
            let liveness = GrantLiveness(store: postgres, clock: clock, freshness: .listened(window: PostgresRevocationListener.defaultWindow))
            liveness.follow(postgres.revocations)
            return GrantLivenessWiring(
                liveness: liveness, listener: PostgresRevocationListener(store: postgres, liveness: liveness, clock: clock, logger: logger))
        }
        if let sqlite = store as? SQLiteStore {
            let liveness = GrantLiveness(
                store: sqlite, clock: clock, freshness: .probed(interval: sqliteProbeInterval, probe: { try await sqlite.dataVersion() }))
            liveness.follow(sqlite.revocations)
            return GrantLivenessWiring(liveness: liveness, listener: nil)
        }
        if let memory = store as? MemoryStore {
            let liveness = GrantLiveness(store: memory, clock: clock, freshness: .inProcess)
            liveness.follow(memory.revocations)
            return GrantLivenessWiring(liveness: liveness, listener: nil)
        }
        return nil
    }
}
