/// Everything `dcr-shim.yaml` configures (docs/configuration.md). Each
/// key can also be set by `DCR_SHIM_<KEY_PATH>`; secrets also by `<key>_file`.
/// The reference table with defaults is in docs/configuration.md.
public struct ShimConfiguration: Sendable, Equatable {
    /// `issuer`: the shim's public base URL; https, or http on loopback. Required.
    public var issuer: String
    /// `listen.host` (default `0.0.0.0`) and `listen.port` (default `8080`).
    public var listenHost: String
    public var listenPort: Int
    /// `listen.idle_timeout` (default 60s): a client connection that sends
    /// nothing for this long is closed, so idle connections cannot pile up.
    public var listenIdleTimeoutSeconds: Int
    /// `listen.shutdown_grace` (default 20s): on SIGTERM or SIGINT the shim
    /// stops accepting connections and lets requests in flight finish for
    /// this long; what is still open then (an SSE stream, a slow tool call)
    /// is ended and the process exits. Keep it below the orchestrator's own
    /// grace (Kubernetes: `terminationGracePeriodSeconds`, 30 s by default).
    public var listenShutdownGraceSeconds = 20
    /// `listen.trusted_proxies` (default none): CIDRs of the reverse proxies
    /// in front of the shim; only from them is the client address read from
    /// `listen.client_address_header` (see `ClientAddress`).
    public var trustedProxies: [String]
    /// `listen.client_address_header`: `x-forwarded-for` (default) or `forwarded` (RFC 7239).
    public var clientAddressHeader: ClientAddress.Header
    /// `data_dir`: where generated keys are kept (0600). Default: the
    /// process's state directory (`DataDirectory.standard`).
    public var dataDir: String
    public var upstream: UpstreamConfiguration
    /// `resources`: at least one `{resource, scopes}`.
    public var resources: [ResourcePolicy.Resource]
    /// `redirects.clients` (bundle names) and `redirects.allow` (exact URIs).
    public var redirectClients: [String]
    public var redirectAllow: [String]
    /// `consent.mode`: `always` (default) or `remember`; `consent.remember_for` (default 30d).
    public var consentMode: ConsentMode
    public var consentRememberSeconds: Int
    /// `tokens.access`: `upstream` (default: the client gets the IdP's access
    /// token) or `issued` (the shim's own RFC 9068 JWT, see `issuedTokens`).
    public var accessTokenMode: AccessTokenMode
    /// `tokens.refresh_ttl` (default 30d) and `tokens.refresh_grace` (default 45s).
    public var refreshTTLSeconds: Int
    public var refreshGraceSeconds: Int
    /// `storage.url` (secret; also `storage.url_file`): `memory:`, `sqlite://PATH`
    /// (default `sqlite://./dcr-shim.db`) or `postgres://user:password@host:port/db`
    /// with `sslmode` `disable`, `prefer` or `require` (default `require`,
    /// `prefer` on a loopback host).
    public var storageURL: String
    /// `storage.url` parsed (`StorageLocation`); `.memory` stands in while
    /// the URL is not of a known form (a configuration problem then).
    public var storage: StorageLocation
    /// `storage.sqlite_synchronous`: `full` (default: a response is sent only
    /// after its write reached the disk, surviving power loss) or `normal`
    /// (WAL without fsync per commit: survives a process crash, may lose the
    /// last writes on power loss; several times faster).
    public var sqliteSynchronous: SQLiteSynchronous
    /// `keys.encryption_key` / `keys.cookie_key`: base64 of 32 bytes each; when
    /// absent they are generated once into `data_dir`.
    public var encryptionKey: String?
    public var cookieKey: String?
    /// `keys.previous_encryption_keys` / `keys.previous_cookie_keys`: older
    /// keys still accepted (rotation: the `keys.*_key` one is used).
    public var previousEncryptionKeys: [String]
    public var previousCookieKeys: [String]
    /// `log.format`: `text` (default) or `json` (one object per line).
    public var logFormat: LogFormat
    /// `limits.max_body_bytes` (default 65536).
    public var maxBodyBytes: Int
    /// `log.level` (default `info`).
    public var logLevel: LogLevel
    /// `registration.rate_limit`: registrations per minute per client address
    /// (default 20; 0 turns it off). Shared by replicas on PostgreSQL.
    public var registrationRateLimit: Int
    /// `registration.max_clients`: cap on live registrations (default 100000).
    public var maxClients: Int
    /// `registration.unused_ttl`: a registration no token was ever issued to
    /// expires after this (default 24h).
    public var unusedClientTTLSeconds: Int
    /// `tokens.access_ttl`, `tokens.claims`, `tokens.insecure_upstream_audience_ack`
    /// (ShimConfiguration+Tokens.swift).
    public var issuedTokens = IssuedTokenConfiguration()
    /// `keys.signing_key`, `keys.previous_signing_keys` (PEM, ES256).
    public var signingKeys = SigningKeyConfiguration()
    /// `introspection.clients`: resource servers allowed to call /introspect.
    public var introspectionClients: [IntrospectionClient] = []
    /// `resources[i].upstream` and its companions: the resources the gateway fronts.
    public var gatewayResources: [GatewayResource] = []
    /// `gateway.*`: timeouts and limits of the reverse proxy.
    public var gateway = GatewayConfiguration()
    /// `resources[i].tools`: per-tool policies of gateway resources, by
    /// resource URL (ShimConfiguration+ToolPolicy.swift).
    public var toolPolicies: [String: ToolPolicy] = [:]
    /// `ema.*`: Enterprise-Managed Authorization (ShimConfiguration+EMA.swift).
    public var ema = EMAConfiguration()
    /// `authorization.rate_limit`: /authorize requests per minute per client
    /// address (default 60; 0 turns it off). Shared by replicas on PostgreSQL.
    public var authorizationRateLimit: Int
    /// `authorization.max_pending`: cap on sign-ins waiting at the consent
    /// page (default 100000); above it /authorize answers 503.
    public var maxPendingAuthorizations: Int
    /// `audit.retention`: audit events older than this are deleted (default 90d).
    public var auditRetentionSeconds: Int
    /// `cimd.*`: Client ID Metadata Documents (ShimConfiguration+CIMD.swift).
    public var cimd = CIMDConfiguration()
    /// `api_description.*` and `reload.*` (OperationsConfiguration.swift).
    public var operations = OperationsConfiguration()
    /// `tracing.*`: OpenTelemetry traces (TracingConfiguration.swift); off by default.
    public var tracing = TracingConfiguration()

    public enum ConsentMode: String, Sendable, Equatable {
        case always, remember
    }
}

/// The `upstream:` block.
public struct UpstreamConfiguration: Sendable, Equatable {
    public var preset: UpstreamPreset
    /// `upstream.tenant` (entra only).
    public var tenant: String?
    /// `upstream.issuer`: discovery base (not entra).
    public var issuer: String?
    public var authorizationEndpoint: String?
    public var tokenEndpoint: String?
    public var revocationEndpoint: String?
    public var clientID: String
    public var clientSecret: String?
    public var tokenEndpointAuthMethod: String
    public var scopes: [String]
    public var extraAuthorizeParams: [String: String]
    public var extraTokenParams: [String: String]
    /// `upstream.timeout` (default 10s) for every call to the IdP.
    public var timeoutSeconds: Int
    /// `upstream.display_name`: the identity provider's name on the consent
    /// page ("you will sign in with …"); default from the preset, or the
    /// issuer's host (`identityProviderName`).
    public var displayName: String?
    /// `upstream.audience` (auth0: required): the API identifier Auth0 issues
    /// the access token for, sent as `audience` on every authorize request.
    public var audience: String? = nil
    /// `upstream.userinfo_endpoint`: where the subject is read when the IdP
    /// returns no ID token (GitHub's `/user`, an OIDC provider without
    /// `openid`); discovered, or the preset's, when not set.
    public var userinfoEndpoint: String? = nil
    /// `upstream.jwks_uri`: the IdP's signing keys, when discovery does not
    /// name them (fixed endpoints); ID tokens are then verified against them.
    public var jwksURI: String? = nil
    /// `upstream.id_token_algorithms`: the `alg` values an ID token may use
    /// (asymmetric only); default: the IdP's `id_token_signing_alg_values_supported`, else RS256.
    public var idTokenAlgorithms: [String] = []
    /// `upstream.client_auth`: a client secret, a certificate
    /// (`private_key_jwt`) or a federated token.
    public var clientAuth = UpstreamClientAuthentication()

    public init(
        preset: UpstreamPreset, tenant: String?, issuer: String?, authorizationEndpoint: String?, tokenEndpoint: String?,
        revocationEndpoint: String?, clientID: String, clientSecret: String?, tokenEndpointAuthMethod: String,
        scopes: [String], extraAuthorizeParams: [String: String], extraTokenParams: [String: String], timeoutSeconds: Int
    ) {
        self.preset = preset
        self.tenant = tenant
        self.issuer = issuer
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.revocationEndpoint = revocationEndpoint
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.tokenEndpointAuthMethod = tokenEndpointAuthMethod
        self.scopes = scopes
        self.extraAuthorizeParams = extraAuthorizeParams
        self.extraTokenParams = extraTokenParams
        self.timeoutSeconds = timeoutSeconds
    }
}

public enum UpstreamPreset: String, Sendable, Equatable, CaseIterable {
    case entra, okta, google, github, auth0, keycloak, oidc

    /// `upstream.token_endpoint_auth_method` when not set: what the
    /// provider's console sets up by default for a new client.
    public var defaultTokenEndpointAuthMethod: String {
        switch self {
        // GitHub documents only body parameters; Auth0's new applications default to "Post".
        case .github, .auth0: "client_secret_post"
        default: "client_secret_basic"
        }
    }

    /// Scopes asked for when `upstream.scopes` is not set.
    public var defaultScopes: [String] {
        switch self {
        case .github: []
        case .entra, .okta, .auth0, .keycloak: ["openid", "profile", "offline_access"]
        case .google, .oidc: ["openid", "profile"]
        }
    }
}

extension ShimConfiguration {
    /// `issuer` without a trailing slash: every endpoint URL, the callback and
    /// the `iss` of what the shim signs start with it (RFC 8414 §2: the
    /// issuer identifier has no trailing slash to add paths to). The one
    /// place the slash is trimmed.
    public var issuerBase: String {
        issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
    }
}
