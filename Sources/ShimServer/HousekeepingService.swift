import Foundation
public import Logging
public import ServiceLifecycle
public import ShimCore
public import ShimStorage
import Tracing

/// Every few minutes, deletes what can never be used again, so stored rows
/// stay bounded (`ShimStore.purgeExpired` says what that is), registrations
/// never used within `registration.unused_ttl`, and audit events older
/// than `audit.retention`.
public struct HousekeepingService: Service {
    let store: any ShimStore
    let clock: any ShimClock
    /// `registration.unused_ttl`, `audit.retention`, `tokens.refresh_ttl`.
    let unusedClientTTLSeconds: Int
    let auditRetentionSeconds: Int
    let refreshTTLSeconds: Int
    let logger: Logger
    let interval: Duration

    public init(
        store: any ShimStore, config: ShimConfiguration, clock: any ShimClock = SystemClock(), logger: Logger,
        interval: Duration = .seconds(300)
    ) {
        self.store = store
        self.clock = clock
        unusedClientTTLSeconds = config.unusedClientTTLSeconds
        auditRetentionSeconds = config.auditRetentionSeconds
        refreshTTLSeconds = config.refreshTTLSeconds
        self.logger = logger
        self.interval = interval
    }

    /// Sweeps every `interval` until the service group shuts down; the sleep
    /// is cancelled by a graceful shutdown (SIGTERM), so it never holds the
    /// process up.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                // One trace per sweep: its store writes are its children, not traces of their own.
                await withSpan("housekeeping") { _ in await sweep() }
                try await Task.sleep(for: interval)
            }
        }
    }

    func sweep() async {
        do {
            let now = clock.now()
            let purged = try await store.purgeExpired(now: now)
            if purged.total > 0 {
                logger.info(
                    "purged expired records",
                    metadata: [
                        "short_lived": "\(purged.shortLived)", "consents": "\(purged.consents)", "grants": "\(purged.grants)",
                        "refresh_tokens": "\(purged.refreshTokens)",
                    ])
            }
            try await store.purgeExpiredAssertionIDs(now: now)
            // MCP sessions the gateway recorded and no request used for `gateway.session_idle_timeout`.
            try await store.purgeExpiredGatewaySessions(now: now)
            let removed = try await store.purgeUnusedClients(
                createdBefore: now.addingTimeInterval(-TimeInterval(unusedClientTTLSeconds)))
            if removed > 0 { logger.info("expired unused registrations", metadata: ["count": "\(removed)"]) }
            let audit = try await store.purgeAudit(before: now.addingTimeInterval(-TimeInterval(auditRetentionSeconds)))
            if audit > 0 { logger.info("audit events past audit.retention deleted", metadata: ["count": "\(audit)"]) }
            // Metadata-document clients not fetched for longer than a grant lives:
            // nothing of theirs is left to administer (they come back on their next sign-in).
            let forgotten = try await store.purgeCIMDClients(
                lastFetchedBefore: now.addingTimeInterval(-TimeInterval(refreshTTLSeconds + 86400)))
            if forgotten > 0 {
                logger.info("forgot metadata-document clients not seen since their grants expired", metadata: ["count": "\(forgotten)"])
            }
        } catch {
            logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
        }
    }
}
