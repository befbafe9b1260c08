import Foundation
public import Logging
import PostgresNIO
public import ShimCore

extension PostgresStore {
    /// The channel of revocation notices, one per revoked grant with its id
    /// as the payload. A constant, in lowercase: postgres-nio sends
    /// `LISTEN "<channel>"` quoted (case-sensitive) and unescaped, while the
    /// revoking side names it in `pg_notify`.
    static let revocationChannel = "dcr_shim_revocations"
}

/// Each replica's ear for the other replicas' revocations: one pooled
/// connection LISTENs on `PostgresStore.revocationChannel`, and each notice
/// drops that grant from this replica's `GrantLiveness`.
///
/// NOTIFY is a hint, the grants table is the truth. PostgreSQL delivers a
/// notice only to sessions listening when the revoking transaction commits
/// and keeps nothing for later, and postgres-nio does not reconnect. So:
/// memory is trusted only while a heartbeat on the listening connection
/// succeeded within the cache's window (`GrantLiveness.Freshness.listened`);
/// on any failure the cache is marked unsure (every answer read from the
/// store) and listening resumes after a backoff; the first heartbeat after
/// that drops everything kept.
public struct PostgresRevocationListener: Sendable {
    let store: PostgresStore
    let liveness: GrantLiveness
    let clock: any ShimClock
    let logger: Logger
    /// How often the listening connection proves it is alive; the cache's
    /// window is larger (`defaultWindow`).
    let heartbeat: Duration
    /// A heartbeat unanswered this long closes the connection and starts over.
    let heartbeatTimeout: Duration
    /// The wait before listening again after a failure: doubles from `firstRetry` up to `maxRetry`.
    let firstRetry: Duration
    let maxRetry: Duration

    /// The heartbeat every replica runs, and the cache window that goes with it.
    public static let defaultHeartbeat: Duration = .milliseconds(500)
    public static let defaultWindow: Duration = .milliseconds(1500)

    public init(
        store: PostgresStore, liveness: GrantLiveness, clock: any ShimClock = SystemClock(), logger: Logger,
        heartbeat: Duration = Self.defaultHeartbeat, heartbeatTimeout: Duration = .seconds(5),
        firstRetry: Duration = .milliseconds(250), maxRetry: Duration = .seconds(10)
    ) {
        self.store = store
        self.liveness = liveness
        self.clock = clock
        self.logger = logger
        self.heartbeat = heartbeat
        self.heartbeatTimeout = heartbeatTimeout
        self.firstRetry = firstRetry
        self.maxRetry = maxRetry
    }

    /// Listens until the task is cancelled (the server's shutdown), starting
    /// over after every failure.
    public func run() async {
        var retry = firstRetry
        while !Task.isCancelled {
            let began = ContinuousClock.now
            do {
                try await listen()
            } catch {
                if !Task.isCancelled {
                    logger.warning(
                        "revocation listener failed; grant status is read from the store until it listens again",
                        metadata: ["error": "\(error)", "retry": "\(retry)"])
                }
            }
            liveness.listenerLost()
            if Task.isCancelled { break }
            // A listener that ran a while before failing starts its backoff afresh.
            if ContinuousClock.now - began > maxRetry * 3 { retry = firstRetry }
            try? await Task.sleep(for: retry)
            retry = min(retry * 2, maxRetry)
        }
        liveness.listenerLost()
    }

    /// One subscription: notices invalidate, heartbeats confirm, until either fails.
    func listen() async throws {
        try await store.client.withConnection { connection in
            try await connection.listen(on: PostgresStore.revocationChannel) { notices in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await notice in notices { liveness.invalidate(grantIDs: [notice.payload]) }
                        throw ListenerEnded()
                    }
                    group.addTask {
                        while true {
                            let began = clock.now()
                            try await beat(connection)
                            liveness.listenerConfirmed(at: began)
                            try await Task.sleep(for: heartbeat)
                        }
                    }
                    _ = try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// `SELECT 1` on the listening connection. Its answer follows the
    /// LISTEN on the same connection, so once it has come back the
    /// subscription is in place and the connection is alive.
    func beat(_ connection: PostgresConnection) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await connection.query("SELECT 1", logger: logger).collect() }
            group.addTask {
                try await Task.sleep(for: heartbeatTimeout)
                // A query cannot be abandoned; closing the connection fails it.
                try? await connection.close()
                throw HeartbeatUnanswered()
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }

    struct ListenerEnded: Error {}
    struct HeartbeatUnanswered: Error {}
}
