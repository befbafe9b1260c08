import Logging
import ServiceLifecycle
import ShimCore
import ShimServer
import UnixSignals

/// Reload without a restart: on SIGHUP the configuration is read again from
/// the same file, environment and flags. An invalid configuration changes
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

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown { [running] in
            var current = running
            for await _ in hangups {
                current = await reload(from: current)
            }
        }
    }

    /// One reload; returns the configuration now running.
    func reload(from running: ShimConfiguration) async -> ShimConfiguration {
        logger.notice("reload requested (SIGHUP): reading the configuration again")
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
