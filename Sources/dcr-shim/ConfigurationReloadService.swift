import Logging
import ServiceLifecycle
import ShimCore
import ShimServer
import UnixSignals

/// Reload without a restart: on SIGHUP, and when `reload.watch_interval`
/// is set on a change of the configuration file, the configuration is read
/// again from the same file, environment and flags. An invalid configuration changes
/// nothing and every problem is logged, as check-config prints them. A
/// valid one is applied to the requests that start afterwards (a new router
/// swapped into `ReloadableResponder`); open streams and sign-ins in flight
/// carry on. Settings only a restart can change keep their running values
/// and are named in the log (`ShimConfiguration.reloading`).
struct ConfigurationReloadService: Service {
    let options: ConfigOptions
    let running: ShimConfiguration
    let parts: RunningParts
    let responder: ReloadableResponder
    let logger: Logger

    /// What asked for a reload.
    enum Cause: Sendable {
        case hangup, fileChanged

        var logged: String {
            switch self {
            case .hangup: "reload requested (SIGHUP): reading the configuration again"
            case .fileChanged: "reload requested (configuration file changed): reading the configuration again"
            }
        }
    }

    /// `reload.watch_interval`: the configuration file looked at every
    /// interval (`ConfigFileWatch`), a change reloading as SIGHUP does.
    var fileWatch: ConfigFileWatch? {
        running.operations.watchIntervalSeconds.map { ConfigFileWatch(path: options.config, interval: .seconds($0)) }
    }

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        // SIGHUP and the file watch feed one queue, read by one loop: reloads
        // never overlap, and requests that pile up during one are one more reload.
        let (causes, queue) = AsyncStream.makeStream(of: Cause.self, bufferingPolicy: .bufferingNewest(1))
        let watch = fileWatch
        if let watch {
            logger.info("watching the configuration file for changes", metadata: ["file": "\(watch.path)", "interval": "\(watch.interval)"])
        }
        await cancelWhenGracefulShutdown { [running] in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in hangups { _ = queue.yield(.hangup) }
                }
                if let watch {
                    group.addTask { await watch.run { _ = queue.yield(.fileChanged) } }
                }
                var current = running
                for await cause in causes {
                    current = await reload(from: current, cause: cause)
                }
                group.cancelAll()
            }
        }
    }

    /// One reload; returns the configuration now running.
    func reload(from running: ShimConfiguration, cause: Cause = .hangup) async -> ShimConfiguration {
        logger.notice("\(cause.logged)")
        let loaded: ShimConfiguration
        switch ConfigLoader.load(path: options.config, flags: options.flags) {
        case .success(let config):
            loaded = config
        case .failure(let problems):
            for problem in problems.problems {
                logger.error("reload refused; the running configuration stays", metadata: ["problem": "\(problem)"])
            }
            return running
        }
        let (applied, restartOnly) = running.reloading(loaded)
        // The running values kept for restart-only settings, with the new
        // file's others, must still make a configuration check-config accepts
        // (a file that switches tokens.access to issued and adds a gateway
        // resource would otherwise run in upstream mode without its gateway).
        let mixed = applied.validate()
        if !mixed.isEmpty {
            for name in restartOnly {
                logger.warning("reload: this setting changes only at a restart", metadata: ["setting": "\(name)"])
            }
            for problem in mixed {
                logger.error(
                    "reload refused: with the running values of restart-only settings the configuration is not valid",
                    metadata: ["problem": "\(problem)"])
            }
            return running
        }
        for name in restartOnly {
            logger.warning("reload: this setting changes only at a restart; its running value is kept", metadata: ["setting": "\(name)"])
        }
        do {
            responder.replace(with: try await parts.responder(for: applied, logger: logger))
        } catch {
            logger.error("reload failed; the running configuration stays", metadata: ["error": "\(error)"])
            return running
        }
        RuntimeLogLevel.current = Logger.Level(applied.logLevel)
        logger.notice("configuration reloaded", metadata: ["restart_only_changes": "\(restartOnly.count)"])
        return applied
    }
}
