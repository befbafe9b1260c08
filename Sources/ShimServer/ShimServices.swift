public import Foundation
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
    /// RFC 8414 metadata, encoded once.
    private(set) var metadataBody = ByteBuffer()
    /// Fetches Client ID Metadata Documents (`GuardedFetcher` in production);
    /// nil turns CIMD off whatever `cimd.enabled` says.
    let documentFetcher: (any DocumentFetching)?
    /// `cimd.*` as a policy: enabled, allowed and blocked hosts.
    let cimdPolicy: CIMDPolicy
    /// Validated documents, so a cached fetch is not validated again per request.
    let parsedDocuments = ParsedDocumentCache(capacity: 4096)
    /// The ES256 keys of issued tokens (`tokens.access: issued`), nil otherwise.
    public let signingKeys: SigningKeys?
    /// Validates issued tokens (signature, claims, live grant): /introspect and /revoke.
    public let tokenValidator: IssuedTokenValidator?
    /// /jwks.json, encoded once.
    private(set) var jwksBody = ByteBuffer()
    /// The keys of `ema.trusted_issuers` (leg 2), nil when none is trusted.
    public let trustedIssuerKeys: TrustedIssuerKeys?
    /// Verifies upstream ID tokens presented for ID-JAG issuance (leg 1).
    public let subjectTokens: (any SubjectTokenVerifying)?

    public init(config: ShimConfiguration, store: any ShimStore, upstream: any UpstreamIdP,
                clock: any ShimClock = SystemClock(), keys: KeyMaterial, documentFetcher: (any DocumentFetching)? = nil,
                signingKeys: SigningKeys? = nil, jwksFetcher: (any DocumentFetching)? = nil,
                subjectTokens: (any SubjectTokenVerifying)? = nil) throws {
        self.documentFetcher = documentFetcher
        var cimdPolicy = config.cimd.policy
        cimdPolicy.enabled = config.cimd.enabled && documentFetcher != nil
        self.cimdPolicy = cimdPolicy
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
            : try TrustedIssuerKeys(issuers: config.ema.trustedIssuers, fetcher: jwksFetcher)
        self.subjectTokens = subjectTokens
        self.signingKeys = signingKeys
        self.tokenValidator = signingKeys.map { IssuedTokenValidator(keys: $0, issuer: config.issuerBase, store: store) }
        self.metadataBody = MetadataEndpoint.encoded(self)
        self.jwksBody = KeysEndpoint.encoded(self)
    }

    /// A registered client that has not expired unused (`registration.unused_ttl`).
    func liveClient(id: String) async throws -> RegisteredClient? {
        guard let client = try await store.client(id: id), !client.isExpired(now: now, unusedTTL: config.unusedClientTTLSeconds) else {
            return nil
        }
        return client
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
