import Foundation
public import Logging
public import ServiceLifecycle
import ShimCore
import ShimStorage

/// Deletes expired transactions and codes, and registrations that were
/// never used within `registration.unused_ttl`, every few minutes.
public struct HousekeepingService: Service {
    let services: ShimServices
    let logger: Logger
    let interval: Duration

    public init(services: ShimServices, logger: Logger, interval: Duration = .seconds(300)) {
        self.services = services
        self.logger = logger
        self.interval = interval
    }

    /// Sweeps every `interval` until the service group shuts down; the sleep
    /// is cancelled by a graceful shutdown (SIGTERM), so it never holds the
    /// process up.
    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                try await Task.sleep(for: interval)
            }
        }
    }

    func sweep() async {
        do {
            let now = services.now
            try await services.store.purgeExpired(now: now)
            let removed = try await services.store.purgeUnusedClients(
                createdBefore: now.addingTimeInterval(-TimeInterval(services.config.unusedClientTTLSeconds)))
            if removed > 0 { logger.info("expired unused registrations", metadata: ["count": "\(removed)"]) }
        } catch {
            logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
        }
    }
}
