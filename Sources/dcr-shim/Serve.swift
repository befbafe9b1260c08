import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ShimCore
import ShimServer
import ShimStorage
import ShimUpstream

/// `dcr-shim serve` (the default): load configuration, open the store,
/// serve until SIGTERM/SIGINT, letting in-flight requests finish.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (default).")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try ConfigLoader.loadOrExit(options)
        // Every format escapes control characters in logged values (ShimLogHandler).
        let format = ShimLogHandler.Format(rawValue: config.logFormat) ?? .text
        LoggingSystem.bootstrap { ShimLogHandler(label: $0, format: format) }
        var logger = Logger(label: "dcr-shim")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info

        let ephemeral = config.storageURL == "memory:"
        let store: any ShimStore
        if ephemeral {
            logger.warning("storage.url is memory: registrations and grants are lost on restart")
            store = MemoryStore()
        } else if config.storageURL.hasPrefix("postgres") {
            store = try await PostgresStore.open(url: config.storageURL, logger: logger)
        } else {
            let path = String(config.storageURL.dropFirst("sqlite://".count))
            store = try await SQLiteStore.open(path: path, synchronous: config.sqliteSynchronous, logger: logger)
        }
        let keys = try KeyMaterial.load(config: config, ephemeral: ephemeral)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(Int64(config.upstream.timeoutSeconds)))))
        let issuer = config.issuer.hasSuffix("/") ? String(config.issuer.dropLast()) : config.issuer
        let upstream = OIDCUpstream(config: config.upstream, callbackURL: issuer + "/callback", httpClient: httpClient, logger: logger)
        for note in config.upstream.presetNotes() { logger.notice("upstream preset", metadata: ["note": "\(note)"]) }
        let runLogger = logger
        // Client ID Metadata Documents: the guarded fetcher, and the operator's relaxations said out loud.
        let documentFetcher = config.cimd.enabled ? try CIMDFetching.makeFetcher(config.cimd, logger: logger) : nil
        for warning in config.cimd.relaxationWarnings where config.cimd.enabled {
            logger.warning("insecure relaxation in effect", metadata: ["setting": "\(warning)"])
        }
        var services = try ShimServices(config: config, store: store, upstream: upstream, keys: keys, documentFetcher: documentFetcher)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        services.metricsRegistry = registry

        let app = Application(
            router: ShimRouter.build(services),
            // listen.idle_timeout: a connection that sends nothing is closed.
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(config.listenIdleTimeoutSeconds)))),
            configuration: .init(address: .hostname(config.listenHost, port: config.listenPort), serverName: nil),
            services: [HousekeepingService(services: services, logger: logger)],
            onServerRunning: { _ in
                runLogger.info("dcr-shim listening", metadata: ["issuer": "\(issuer)", "callback": "\(issuer)/callback"])
                if await !upstream.isReady() { runLogger.warning("upstream discovery failed at start; will retry on use") }
            },
            logger: logger
        )
        do {
            try await app.runService()
        } catch {
            logger.error("server stopped", metadata: ["error": "\(error)"])
        }
        try? await httpClient.shutdown()
        if let sqlite = store as? SQLiteStore { try? await sqlite.close() }
        if let postgres = store as? PostgresStore { postgres.close() }
    }
}
