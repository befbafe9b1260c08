import AsyncHTTPClient
import Hummingbird
import Logging
import Prometheus
import ShimCore
import ShimGateway
import ShimServer
import ShimStorage
import ShimTokens
import ShimUpstream

/// What the process opens once and keeps for its whole life (the store, the
/// IdP client, the keys, the outbound fetchers, the metrics registry, the
/// gateway's connection pool), and the one function that builds the
/// request-answering part from a configuration: at start, and again on
/// every reload.
struct RunningParts: Sendable {
    let store: any ShimStore
    let upstream: OIDCUpstream
    let keys: KeyMaterial
    let documentFetcher: GuardedFetcher?
    let signingKeys: SigningKeys?
    let jwksFetcher: GuardedFetcher?
    let subjectTokens: (any SubjectTokenVerifying)?
    let registry: PrometheusCollectorRegistry
    let gatewayClient: HTTPClient?
    /// The in-process rate and stream counts, made once and handed to every
    /// responder built here: a reload changes the limits, never the counts.
    let addressCounters = AddressRateCounters()
    let gatewayCounters = GatewayCounters()
    /// Where issued tokens' grants are checked: the store's `GrantLiveness` (one per process, kept across reloads).
    let grantStatus: (any GrantStatusStore)?

    /// The endpoints for `config`, the configured EMA clients installed
    /// (and those no longer listed withdrawn), the router with the gateway's
    /// routes.
    func responder(for config: ShimConfiguration, logger: Logger) async throws -> RouterResponder<ShimRequestContext> {
        var services = try ShimServices(
            config: config, store: store, upstream: upstream, keys: keys, documentFetcher: documentFetcher,
            signingKeys: signingKeys, jwksFetcher: jwksFetcher, subjectTokens: subjectTokens, counters: addressCounters,
            grantStatus: grantStatus)
        for id in try await services.installConfiguredClients() {
            logger.warning("configured client withdrawn: no longer in ema.clients; its grants are revoked", metadata: ["client_id": "\(id)"])
        }
        services.metricsRegistry = registry
        let router = ShimRouter.build(services)
        if let gatewayClient, !config.gatewayResources.isEmpty, let validator = services.tokenValidator {
            // The store records who opened each MCP session; a store that replicas
            // share (PostgreSQL) also counts gateway.requests_per_minute across them.
            Gateway(
                config: config, validator: validator, upstreamTokens: ServerUpstreamTokens(refresher: services.refresher),
                httpClient: gatewayClient, sessions: store, sharedRateLimit: store as? any SharedRateLimitStore, counters: gatewayCounters,
                downstreamTokens: ServerDownstreamTokens(broker: services.downstreamTokens)
            ).register(on: router)
            logger.info("gateway mode", metadata: ["resources": "\(config.gatewayResources.map { "\($0.resource) -> \($0.upstream)" })"])
        }
        if gatewayClient == nil, !config.gatewayResources.isEmpty {
            // Only a reload can get here: the pool is made at start when a gateway resource exists.
            logger.warning("gateway resources added by a reload are served after a restart (no gateway connection pool yet)")
        }
        return router.buildResponder()
    }
}
