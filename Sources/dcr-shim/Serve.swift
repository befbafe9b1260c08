import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import ShimCore
import ShimGateway
import ShimServer
import ShimStorage
import ShimTokens
import ShimUpstream
import UnixSignals

/// `dcr-shim serve` (the default): load configuration, open the store,
/// serve until SIGTERM/SIGINT, letting in-flight requests finish within
/// `listen.shutdown_grace`.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (default).")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        // A SIGHUP before the reload service listens must not end the process.
        signal(SIGHUP, SIG_IGN)
        let config = try ConfigLoader.loadOrExit(options)
        // Every format escapes control characters in logged values (ShimLogHandler).
        let format: ShimLogHandler.Format =
            switch config.logFormat {
            case .text: .text
            case .json: .json
            }
        LoggingSystem.bootstrap { ShimLogHandler(label: $0, format: format) }
        var logger = Logger(label: "dcr-shim")
        logger.logLevel = Logger.Level(config.logLevel)

        // Traces (tracing.otlp_endpoint): bootstrapped before any HTTP client is made.
        let traceExport: (any Service)?
        do { traceExport = try TracingBootstrap.start(config.tracing, logger: logger) } catch {
            logger.critical("cannot start the trace exporter", metadata: ["error": "\(error)"])
            throw error
        }

        let ephemeral = config.storage == .memory
        if ephemeral { logger.warning("storage.url is memory: registrations and grants are lost on restart") }
        let opened = try await ConfiguredStore.open(config, logger: logger)
        let store = opened.store
        // Key files: where they live is logged (never their content); one
        // open to others, unreadable or not a key stops the start (KeyFile).
        let signs = config.accessTokenMode == .issued || config.ema.issuer.enabled
        let keyFiles =
            KeyMaterial.filePaths(config: config, ephemeral: ephemeral)
            + (signs && !ephemeral && config.signingKeys.signingKey == nil ? [SigningKeys.filePath(dataDir: config.dataDir)] : [])
        if !keyFiles.isEmpty {
            logger.info("keys kept in files", metadata: ["data_dir": "\(config.dataDir)", "files": "\(keyFiles.joined(separator: ", "))"])
        }
        let keyLogger = logger
        let noteCreated: (String) -> Void = { path in keyLogger.notice("key generated", metadata: ["file": "\(path)"]) }
        let keys: KeyMaterial
        do {
            keys = try KeyMaterial.load(config: config, ephemeral: ephemeral, created: noteCreated)
        } catch {
            logger.critical("cannot load keys", metadata: ["error": "\(error)"])
            throw error
        }
        let httpClient = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(
                redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(5), read: .seconds(Int64(config.upstream.timeoutSeconds)))))
        // The certificate and key (private_key_jwt): a start that cannot authenticate
        // to the IdP is refused here, not at the first user's sign-in.
        let credentialCheck = UpstreamClientCredentials.inspect(config.upstream, now: SystemClock().now())
        for warning in credentialCheck.warnings { logger.warning("upstream client credentials", metadata: ["warning": "\(warning)"]) }
        if !credentialCheck.problems.isEmpty {
            for problem in credentialCheck.problems { logger.critical("upstream client credentials", metadata: ["error": "\(problem)"]) }
            try? await httpClient.shutdown()
            throw ConfigurationProblems(problems: credentialCheck.problems)
        }
        let upstream = OIDCUpstream(config: config.upstream, callbackURL: config.issuerBase + "/callback", httpClient: httpClient, logger: logger)
        for note in config.upstream.presetNotes() { logger.notice("upstream preset", metadata: ["note": "\(note)"]) }
        let runLogger = logger
        // Issued tokens: the shim's ES256 keys (configured, or generated once into data_dir).
        let signingKeys: SigningKeys?
        do {
            signingKeys =
                signs ? try await SigningKeys.load(config.signingKeys, dataDir: config.dataDir, ephemeral: ephemeral, created: noteCreated) : nil
        } catch {
            logger.critical("cannot load the signing key", metadata: ["error": "\(error)"])
            throw error
        }
        // EMA: trusted issuers' key sets through the rule-11 fetcher, relaxations said out loud.
        let jwksFetcher =
            config.ema.trustedIssuers.contains { $0.jwksURI != nil }
            ? try GuardedFetcher.issuerKeys(config.ema, nat64Prefixes: config.cimd.nat64, logger: logger) : nil
        for host in config.ema.insecurePrivateHosts {
            logger.warning("insecure relaxation in effect", metadata: ["setting": "ema.insecure_private_hosts: \(host)"])
        }
        if config.ema.insecureCA != nil { logger.warning("insecure relaxation in effect", metadata: ["setting": "ema.insecure_ca"]) }
        // Client ID Metadata Documents: the guarded fetcher, and the operator's relaxations said out loud.
        let documentFetcher = config.cimd.enabled ? try GuardedFetcher.documents(config.cimd, logger: logger) : nil
        for warning in config.cimd.relaxationWarnings where config.cimd.enabled {
            logger.warning("insecure relaxation in effect", metadata: ["setting": "\(warning)"])
        }
        // EMA leg 1: the user's upstream ID token is checked against the IdP's published keys.
        let subjectTokens: (any SubjectTokenVerifying)? = config.ema.issuer.enabled ? upstream : nil
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        // dcr_shim_upstream_certificate_expiry_seconds from the start (then at each assertion).
        upstream.recordCertificateExpiry()
        // Gateway mode: resources with an `upstream` are proxied by this same
        // app, through one connection pool kept across reloads.
        let gatewayClient = config.gatewayResources.isEmpty ? nil : Gateway.makeHTTPClient(config.gateway)
        // What start and every reload build from a configuration: the
        // endpoints (ShimServices), the router, the gateway routes.
        // Grant status answered from memory, invalidated by this process's
        // revocations and by other processes' (docs/tokens-and-gateway.md).
        let grantLiveness = GrantLivenessWiring.make(for: store, logger: logger)
        let parts = RunningParts(
            store: store, upstream: upstream, keys: keys, documentFetcher: documentFetcher, signingKeys: signingKeys,
            jwksFetcher: jwksFetcher, subjectTokens: subjectTokens, registry: registry, gatewayClient: gatewayClient,
            grantStatus: grantLiveness?.liveness)
        let responder = ReloadableResponder(try await parts.responder(for: config, logger: logger))
        let reload = ConfigurationReloadService(options: options, running: config, parts: parts, responder: responder, logger: logger)
        var services: [any Service] = [HousekeepingService(store: store, config: config, logger: logger), reload]
        if let listener = grantLiveness?.listener { services.append(RevocationListenerService(listener: listener)) }
        let app = Application(
            responder: responder,
            // listen.idle_timeout: a connection that sends nothing is closed.
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(config.listenIdleTimeoutSeconds)))),
            configuration: .init(address: .hostname(config.listenHost, port: config.listenPort), serverName: nil),
            services: services,
            onServerRunning: { _ in
                runLogger.info("dcr-shim listening", metadata: ["issuer": "\(config.issuerBase)", "callback": "\(config.issuerBase)/callback"])
                if await !upstream.isReady() { runLogger.warning("upstream discovery failed at start; will retry on use") }
            },
            logger: logger
        )
        // SIGTERM/SIGINT: the listener closes, idle connections close, requests
        // in flight finish; after listen.shutdown_grace what is still open
        // (SSE streams above all: they never end by themselves) is cancelled,
        // so a rolling update never waits on a stream (the client resumes on
        // another replica with Last-Event-ID).
        // The trace exporter first: services stop in reverse order, so it sends
        // the spans of the requests that finish during the drain.
        var group = ServiceGroupConfiguration(
            services: (traceExport.map { [$0] } ?? []) + [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(config.listenShutdownGraceSeconds)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            logger.error("server stopped", metadata: ["error": "\(error)"])
        }
        try? await httpClient.shutdown()
        try? await gatewayClient?.shutdown()
        await opened.close()
    }
}

/// The gateway injects upstream tokens through the authorization server's
/// own refresh machinery.
struct ServerUpstreamTokens: UpstreamAccessTokens {
    let refresher: UpstreamRefresher

    func upstreamAccessToken(grantID: String, logger: Logger) async throws -> String? {
        try await refresher.accessToken(grantID: grantID, logger: logger)
    }
}

/// The gateway obtains tokens for the APIs behind MCP servers through the
/// authorization server's broker (the same grants, vault and refresh path).
struct ServerDownstreamTokens: DownstreamTokens {
    let broker: DownstreamTokenBroker

    func downstreamToken(grantID: String, api: DownstreamAPI, logger: Logger) async throws -> String {
        try await broker.token(grantID: grantID, api: api, logger: logger)
    }
}

extension Logger.Level {
    /// `log.level`, named as swift-log names its levels.
    init(_ level: LogLevel) {
        self =
            switch level {
            case .trace: .trace
            case .debug: .debug
            case .info: .info
            case .notice: .notice
            case .warning: .warning
            case .error: .error
            case .critical: .critical
            }
    }
}
