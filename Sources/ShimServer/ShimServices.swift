import Foundation
import Logging
public import Prometheus
public import ShimCore
public import ShimStorage
public import ShimTokens
public import ShimUpstream

/// The wiring, done once at start: it reads the configuration, builds the
/// shared parts (store, IdP, keys, policies) and hands each endpoint and
/// grant only what it uses. Endpoints keep their dependencies as stored
/// properties; nothing below takes this type.
public struct ShimServices: Sendable {
    public let config: ShimConfiguration
    public let store: any ShimStore
    public let upstream: any UpstreamIdP
    public let clock: any ShimClock
    public let resourcePolicy: ResourcePolicy
    /// Who the client is behind `listen.trusted_proxies`.
    let clientAddress: ClientAddress
    /// The Prometheus registry `/metrics` renders; set by the executable after
    /// bootstrapping swift-metrics (nil: `/metrics` answers 404).
    public var metricsRegistry: PrometheusCollectorRegistry?
    /// The ES256 keys of issued tokens and ID-JAGs, nil when the shim signs nothing.
    public let signingKeys: SigningKeys?
    /// Validates issued tokens (signature, claims, live grant): /introspect, /revoke, the gateway.
    public let tokenValidator: IssuedTokenValidator?
    /// The one refresh and revocation path of upstream tokens (token
    /// endpoint, revocation, gateway).
    public let refresher: UpstreamRefresher
    /// Tokens for the APIs behind gateway resources (`resources[i].downstream`).
    public let downstreamTokens: DownstreamTokenBroker
    /// `cimd.*` as a policy (enabled only with a fetcher).
    let cimdPolicy: CIMDPolicy

    let register: RegisterEndpoint
    let authorize: AuthorizeEndpoint
    let consent: ConsentEndpoint
    let callback: CallbackEndpoint
    let token: TokenEndpoint
    let revoke: RevokeEndpoint

    public init(
        config: ShimConfiguration, store: any ShimStore, upstream: any UpstreamIdP,
        clock: any ShimClock = SystemClock(), keys: KeyMaterial, documentFetcher: (any DocumentFetching)? = nil,
        signingKeys: SigningKeys? = nil, jwksFetcher: (any DocumentFetching)? = nil,
        subjectTokens: (any SubjectTokenVerifying)? = nil, counters: AddressRateCounters = AddressRateCounters(),
        grantStatus: (any GrantStatusStore)? = nil
    ) throws {
        if config.accessTokenMode == .issued || config.ema.issuer.enabled, signingKeys == nil { throw ShimServicesError.signingKeysRequired }
        self.config = config
        self.store = store
        self.upstream = upstream
        self.clock = clock
        self.signingKeys = signingKeys
        let issuer = config.issuerBase
        let sealer = try Sealer(keys: [keys.encryptionKey] + keys.previousEncryptionKeys)
        let signer = try MessageSigner(keys: [keys.cookieKey] + keys.previousCookieKeys)
        let redirectPolicy = RedirectPolicy(allowlist: RedirectAllowlist(clients: config.redirectClients, allow: config.redirectAllow))
        let resourcePolicy = ResourcePolicy(resources: config.resources, upstreamScopes: config.upstream.scopes)
        self.resourcePolicy = resourcePolicy
        let shared = store as? any SharedRateLimitStore
        clientAddress = ClientAddress(trustedProxies: config.trustedProxies.compactMap(IPNetwork.init), header: config.clientAddressHeader)
        let trustedIssuerKeys =
            config.ema.trustedIssuers.isEmpty
            ? nil
            : try TrustedIssuerKeys(issuers: config.ema.trustedIssuers, fetcher: jwksFetcher, clock: clock)
        // Grant status from memory when the executable wired a `GrantLiveness`; the store otherwise.
        let tokenValidator = signingKeys.map { IssuedTokenValidator(keys: $0, issuer: issuer, store: grantStatus ?? store) }
        self.tokenValidator = tokenValidator
        let vault = UpstreamTokenVault(sealer: sealer)
        let auditor = Auditor(store: store)
        var cimdPolicy = config.cimd.policy
        cimdPolicy.enabled = config.cimd.enabled && documentFetcher != nil
        self.cimdPolicy = cimdPolicy
        let clients = ClientResolver(
            store: store, clock: clock, unusedClientTTLSeconds: config.unusedClientTTLSeconds,
            documentFetcher: documentFetcher, cimdPolicy: cimdPolicy,
            parsedDocuments: ParsedDocumentCache(capacity: 4096), allowlist: redirectPolicy.allowlist,
            resourcePolicy: resourcePolicy, auditor: auditor)
        let refresher = UpstreamRefresher(store: store, upstream: upstream, vault: vault, clock: clock)
        self.refresher = refresher
        downstreamTokens = DownstreamTokenBroker(refresher: refresher, upstream: upstream, vault: vault, preset: config.upstream.preset, clock: clock)
        let signIn = UpstreamSignIn(store: store, upstream: upstream, clock: clock)
        let authenticator = ClientAuthenticator(clients: clients)

        register = RegisterEndpoint(
            store: store,
            limiter: AddressRateLimit(bucket: "register", limit: config.registrationRateLimit, shared: shared, local: counters.register),
            clock: clock,
            redirectPolicy: redirectPolicy, resourcePolicy: resourcePolicy, acceptsAssertions: config.ema.acceptsAssertions,
            maxBodyBytes: config.maxBodyBytes, maxClients: config.maxClients, unusedClientTTLSeconds: config.unusedClientTTLSeconds)
        authorize = AuthorizeEndpoint(
            clients: clients, store: store,
            limiter: AddressRateLimit(bucket: "authorize", limit: config.authorizationRateLimit, shared: shared, local: counters.authorize),
            clock: clock, redirectPolicy: redirectPolicy, resourcePolicy: resourcePolicy, signer: signer, signIn: signIn, issuer: issuer,
            consentMode: config.consentMode, maxPending: config.maxPendingAuthorizations)
        consent = ConsentEndpoint(
            clients: clients, store: store, clock: clock, signer: signer, signIn: signIn, auditor: auditor, issuer: issuer,
            identityProviderName: config.upstream.identityProviderName, consentMode: config.consentMode,
            rememberSeconds: config.consentRememberSeconds, maxBodyBytes: config.maxBodyBytes)
        callback = CallbackEndpoint(
            store: store, upstream: upstream, vault: vault, signer: signer, clock: clock, issuer: issuer,
            copiedClaims: config.issuedTokens.copiedClaims, subjectIssuer: config.upstream.subjectIssuer,
            emailTrust: config.upstream.emailTrust)
        token = TokenEndpoint(
            authenticator: authenticator,
            handlers: Self.grantHandlers(
                config: config, store: store, refresher: refresher, vault: vault, auditor: auditor, clock: clock,
                resourcePolicy: resourcePolicy, signingKeys: signingKeys, trustedIssuerKeys: trustedIssuerKeys,
                subjectTokens: subjectTokens),
            maxBodyBytes: config.maxBodyBytes)
        revoke = RevokeEndpoint(
            authenticator: authenticator, store: store, refresher: refresher, auditor: auditor, clock: clock,
            tokenValidator: tokenValidator, maxBodyBytes: config.maxBodyBytes)
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
}

public enum ShimServicesError: Error, CustomStringConvertible {
    case signingKeysRequired
    public var description: String { "tokens.access: issued and ema.issuer.enabled need signing keys (SigningKeys.load)" }
}
