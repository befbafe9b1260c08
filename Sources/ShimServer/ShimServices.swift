import Foundation
import HTTPTypes
import NIOCore
import Hummingbird
import Logging
public import ShimCore
public import ShimStorage
public import ShimUpstream
public import Prometheus
public import ShimTokens

/// Everything a handler needs, built once at start. Handlers only
/// orchestrate; the rules they apply live in ShimCore.
public struct ShimServices: Sendable {
    public let config: ShimConfiguration
    public let store: any ShimStore
    public let upstream: any UpstreamIdP
    public let clock: any ShimClock
    public let sealer: Sealer
    public let signer: MessageSigner
    public let redirectPolicy: RedirectPolicy
    public let resourcePolicy: ResourcePolicy
    /// Per-client-address limits (shared by replicas on PostgreSQL).
    let registrationLimiter: AddressRateLimit
    let authorizationLimiter: AddressRateLimit
    /// Who the client is behind `listen.trusted_proxies`.
    let clientAddress: ClientAddress
    /// The Prometheus registry `/metrics` renders; set by the executable after
    /// bootstrapping swift-metrics (nil: `/metrics` answers 404).
    public var metricsRegistry: PrometheusCollectorRegistry?
    /// Who a `client_id` is: a registration or a metadata document.
    let clients: ClientResolver
    /// `cimd.*` as a policy (enabled only with a fetcher).
    var cimdPolicy: CIMDPolicy { clients.cimdPolicy }
    /// Upstream tokens at rest, sealed per grant.
    let vault: UpstreamTokenVault
    let auditor: Auditor
    /// The one refresh and revocation path of upstream tokens (token
    /// endpoint, revocation, gateway).
    public let refresher: UpstreamRefresher
    let tokenEndpoint: TokenEndpoint
    let revokeEndpoint: RevokeEndpoint
    /// The ES256 keys of issued tokens (`tokens.access: issued`), nil otherwise.
    public let signingKeys: SigningKeys?
    /// Validates issued tokens (signature, claims, live grant): /introspect and /revoke.
    public let tokenValidator: IssuedTokenValidator?
    /// The keys of `ema.trusted_issuers` (leg 2), nil when none is trusted.
    public let trustedIssuerKeys: TrustedIssuerKeys?
    /// Verifies upstream ID tokens presented for ID-JAG issuance (leg 1).
    public let subjectTokens: (any SubjectTokenVerifying)?

    public init(config: ShimConfiguration, store: any ShimStore, upstream: any UpstreamIdP,
                clock: any ShimClock = SystemClock(), keys: KeyMaterial, documentFetcher: (any DocumentFetching)? = nil,
                signingKeys: SigningKeys? = nil, jwksFetcher: (any DocumentFetching)? = nil,
                subjectTokens: (any SubjectTokenVerifying)? = nil) throws {
        self.config = config
        self.store = store
        self.upstream = upstream
        self.clock = clock
        self.sealer = try Sealer(keys: [keys.encryptionKey] + keys.previousEncryptionKeys)
        self.signer = try MessageSigner(keys: [keys.cookieKey] + keys.previousCookieKeys)
        self.redirectPolicy = RedirectPolicy(allowlist: RedirectAllowlist(clients: config.redirectClients, allow: config.redirectAllow))
        self.resourcePolicy = ResourcePolicy(resources: config.resources, upstreamScopes: config.upstream.scopes)
        let shared = store as? any SharedRateLimitStore
        self.registrationLimiter = AddressRateLimit(bucket: "register", limit: config.registrationRateLimit, shared: shared)
        self.authorizationLimiter = AddressRateLimit(bucket: "authorize", limit: config.authorizationRateLimit, shared: shared)
        self.clientAddress = ClientAddress(trustedProxies: config.trustedProxies.compactMap(IPNetwork.init),
                                           header: config.clientAddressHeader)
        if config.accessTokenMode == .issued || config.ema.issuer.enabled, signingKeys == nil { throw ShimServicesError.signingKeysRequired }
        self.trustedIssuerKeys = config.ema.trustedIssuers.isEmpty ? nil
            : try TrustedIssuerKeys(issuers: config.ema.trustedIssuers, fetcher: jwksFetcher, clock: clock)
        self.subjectTokens = subjectTokens
        self.signingKeys = signingKeys
        let tokenValidator = signingKeys.map { IssuedTokenValidator(keys: $0, issuer: config.issuerBase, store: store) }
        self.tokenValidator = tokenValidator
        let vault = UpstreamTokenVault(sealer: sealer)
        let auditor = Auditor(store: store)
        var cimdPolicy = config.cimd.policy
        cimdPolicy.enabled = config.cimd.enabled && documentFetcher != nil
        let clients = ClientResolver(store: store, clock: clock, unusedClientTTLSeconds: config.unusedClientTTLSeconds,
                                     documentFetcher: documentFetcher, cimdPolicy: cimdPolicy,
                                     parsedDocuments: ParsedDocumentCache(capacity: 4096), allowlist: redirectPolicy.allowlist,
                                     resourcePolicy: resourcePolicy, auditor: auditor)
        let refresher = UpstreamRefresher(store: store, upstream: upstream, vault: vault, clock: clock)
        let authenticator = ClientAuthenticator(clients: clients)
        self.vault = vault
        self.auditor = auditor
        self.clients = clients
        self.refresher = refresher
        self.tokenEndpoint = TokenEndpoint(
            authenticator: authenticator,
            handlers: Self.grantHandlers(config: config, store: store, refresher: refresher, vault: vault, auditor: auditor, clock: clock,
                                         resourcePolicy: resourcePolicy, signingKeys: signingKeys, trustedIssuerKeys: trustedIssuerKeys,
                                         subjectTokens: subjectTokens),
            maxBodyBytes: config.maxBodyBytes)
        self.revokeEndpoint = RevokeEndpoint(authenticator: authenticator, store: store, refresher: refresher, auditor: auditor, clock: clock,
                                             tokenValidator: tokenValidator, maxBodyBytes: config.maxBodyBytes)
    }

    /// A registered client that has not expired unused (`registration.unused_ttl`).
    func liveClient(id: String) async throws -> RegisteredClient? { try await clients.liveClient(id: id) }

    func resolveClient(id: String, clientAddress: String?, logger: Logger) async throws -> ResolvedClient? {
        try await clients.resolve(id: id, clientAddress: clientAddress, logger: logger)
    }

    /// The issuer without a trailing slash; every endpoint URL starts with it.
    public var issuer: String { config.issuerBase }
    /// The ONE redirect URI registered at the IdP.
    public var callbackURL: String { issuer + "/callback" }
    /// Routes are mounted under the issuer's path (RFC 8414 §3: endpoints live below the issuer).
    var pathPrefix: String {
        guard let uri = RedirectURI(issuer), uri.path != "/" else { return "" }
        return uri.path
    }

    var now: Date { clock.now() }

    /// Rule 6: codes live at most 5 minutes; rule 5: transactions at most 10.
    static let codeLifetime: TimeInterval = 300
    static let transactionLifetime: TimeInterval = 600
}

public enum ShimServicesError: Error, CustomStringConvertible {
    case signingKeysRequired
    public var description: String { "tokens.access: issued and ema.issuer.enabled need signing keys (SigningKeys.load)" }
}
