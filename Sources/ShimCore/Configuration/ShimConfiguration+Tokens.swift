/// `tokens.*` for issued access tokens (docs/tokens-and-gateway.md).
public struct IssuedTokenConfiguration: Sendable, Equatable {
    /// `tokens.access_ttl` (default 5m): lifetime of an issued access token.
    /// Short, because a resource server that validates tokens only against
    /// /jwks.json learns of a revocation when the token expires; the gateway
    /// and /introspect see it at once.
    public var accessTTLSeconds = 300
    /// `tokens.claims` (default none): upstream ID-token claims copied into
    /// issued tokens (Entra: `oid`, `tid`, `roles`, `email`).
    public var copiedClaims: [String] = []
    /// `tokens.insecure_upstream_audience_ack` (default false): lets
    /// `tokens.access: upstream` run with the github or google preset, whose
    /// access tokens are not bound to the MCP server (see validation).
    public var insecureUpstreamAudienceAck = false

    public init() {}
}

/// `keys.signing_key` and `keys.previous_signing_keys`: ES256 keys (PEM) for
/// issued tokens and /jwks.json.
public struct SigningKeyConfiguration: Sendable, Equatable {
    /// `keys.signing_key` (`_file`): a P-256 private key in PEM (PKCS#8 or
    /// SEC 1). When absent it is generated once into `data_dir/signing-key.pem`.
    public var signingKey: String?
    /// `keys.previous_signing_keys` (a list of PEM blocks, private or public
    /// keys) or `keys.previous_signing_keys_file` (a file holding one or more
    /// PEM blocks): still published and accepted during a rotation.
    public var previousSigningKeys: [String] = []

    public init() {}
}

/// One `introspection.clients[i]`: a resource server allowed to call
/// /introspect (RFC 7662 §2.1 "the protected resource ... authenticates").
public struct IntrospectionClient: Sendable, Equatable {
    /// `id` and `secret` (`secret_file`): HTTP Basic or `client_secret_post`.
    public var id: String
    public var secret: String
    /// `resources` (default: every configured resource): tokens for other
    /// resources are answered `active: false` to this client (§4, token scanning).
    public var resources: [String]

    public init(id: String, secret: String, resources: [String]) {
        self.id = id
        self.secret = secret
        self.resources = resources
    }
}

/// A resource the shim serves as a reverse proxy (gateway mode):
/// `resources[i].upstream` and its companions.
public struct GatewayResource: Sendable, Equatable {
    /// `resources[i].resource`: the URL clients use; its path is served by the shim.
    public var resource: String
    /// `resources[i].upstream`: where the MCP server listens (http or https).
    public var upstream: String
    /// `resources[i].required_scopes` (default none): scopes every request
    /// needs; a token without one gets 403 `insufficient_scope` (SEP-835).
    public var requiredScopes: [String]
    /// `resources[i].upstream_token_header` (default none): a header in which
    /// the user's upstream access token is sent to the MCP server;
    /// `Authorization` gets `Bearer <token>`, any other name the bare token.
    public var upstreamTokenHeader: String?
    /// `resources[i].identity_headers` (default true): `X-Forwarded-User`
    /// (sub), `X-Forwarded-Client-Id`, `X-Forwarded-Scope`, `X-Forwarded-Email`.
    public var identityHeaders: Bool
    /// `resources[i].identity_assertion` (default false): also send
    /// `X-DCR-Shim-Assertion`, a 60-second ES256 JWT signed with the shim's
    /// keys stating the same identity (`IdentityAssertion`).
    public var identityAssertion: Bool
    /// `resources[i].allowed_origins` (default: the resource's and the
    /// issuer's origins): browser origins allowed to call it.
    public var allowedOrigins: [String]
    /// `resources[i].insecure_http_upstream` (default false): allows a plain
    /// `http` upstream on another machine (the user's identity headers and
    /// upstream token then cross the network in clear text). Loopback needs
    /// no such setting.
    public var insecureHTTPUpstream: Bool
    /// `resources[i].downstream` (default none): APIs the MCP server calls
    /// for the user; the gateway obtains a token for each, as the user, and
    /// sends it in the API's header.
    public var downstream: [DownstreamAPI]

    public init(
        resource: String, upstream: String, requiredScopes: [String] = [], upstreamTokenHeader: String? = nil,
        identityHeaders: Bool = true, allowedOrigins: [String] = [], insecureHTTPUpstream: Bool = false,
        identityAssertion: Bool = false, downstream: [DownstreamAPI] = []
    ) {
        self.resource = resource
        self.upstream = upstream
        self.requiredScopes = requiredScopes
        self.upstreamTokenHeader = upstreamTokenHeader
        self.identityHeaders = identityHeaders
        self.identityAssertion = identityAssertion
        self.allowedOrigins = allowedOrigins
        self.insecureHTTPUpstream = insecureHTTPUpstream
        self.downstream = downstream
    }
}

/// `gateway.*`: how long the proxy waits and how much it accepts.
public struct GatewayConfiguration: Sendable, Equatable {
    /// `gateway.session_idle_timeout`, `max_stream_lifetime`,
    /// `stream_recheck_interval`, `max_streams_per_grant`, `requests_per_minute`.
    public var limits = GatewayGrantLimits()

    /// `gateway.connect_timeout` (default 5s).
    public var connectTimeoutSeconds = 5
    /// `gateway.response_timeout` (default 120s): the wait for the MCP
    /// server's response head (a JSON answer comes after the tool ran).
    public var responseTimeoutSeconds = 120
    /// `gateway.idle_timeout` (default 5m): a stream on which the MCP server
    /// sends nothing for this long is ended; keep it above its keep-alive interval.
    public var idleTimeoutSeconds = 300
    /// `gateway.max_request_bytes` (default 4 MiB): larger request bodies get 413.
    public var maxRequestBytes = 4 * 1024 * 1024
    /// `gateway.max_connections` (default 1000): connections to each MCP
    /// server at once (each open SSE stream holds one); requests beyond wait.
    public var maxConnections = 1000
    /// `gateway.pool_idle_timeout` (default 4s): a pooled connection to an
    /// MCP server unused for this long is closed by the shim. Below the
    /// servers' own keep-alive timeouts (uvicorn and Node.js close idle
    /// connections after 5 s), so the shim never sends a request on a
    /// connection the server is closing at that moment.
    public var poolIdleTimeoutSeconds = 4

    public init() {}
}

extension ShimConfiguration {
    /// Reads the keys above (called by `load` before unknown keys are reported).
    mutating func readTokenSettings(_ r: inout ConfigReader) {
        issuedTokens.accessTTLSeconds = r.duration("tokens.access_ttl", default: 300, range: 5...86400)
        issuedTokens.copiedClaims = r.stringList("tokens.claims", default: [])
        issuedTokens.insecureUpstreamAudienceAck = r.bool("tokens.insecure_upstream_audience_ack", default: false)
        signingKeys.signingKey = r.secret("keys.signing_key")
        signingKeys.previousSigningKeys = Self.readPEMList(&r, "keys.previous_signing_keys")
        for i in 0..<r.count("introspection.clients") {
            let key = "introspection.clients[\(i)]"
            introspectionClients.append(
                IntrospectionClient(
                    id: r.string(key + ".id") ?? "", secret: r.secret(key + ".secret") ?? "",
                    resources: r.stringList(key + ".resources", default: resources.map(\.resource))))
        }
        for (i, configured) in resources.enumerated() {
            let key = "resources[\(i)]"
            let upstream = r.string(key + ".upstream")
            let required = r.stringList(key + ".required_scopes", default: [])
            let header = r.string(key + ".upstream_token_header")
            let identity = r.bool(key + ".identity_headers", default: true)
            let origins = r.stringList(key + ".allowed_origins", default: [])
            let insecureHTTP = r.bool(key + ".insecure_http_upstream", default: false)
            let assertion = r.bool(key + ".identity_assertion", default: false)
            let downstream = DownstreamAPI.readList(&r, key + ".downstream")
            if let upstream {
                gatewayResources.append(
                    GatewayResource(
                        resource: configured.resource, upstream: upstream, requiredScopes: required,
                        upstreamTokenHeader: header, identityHeaders: identity, allowedOrigins: origins,
                        insecureHTTPUpstream: insecureHTTP, identityAssertion: assertion, downstream: downstream))
            } else if !required.isEmpty || header != nil || !origins.isEmpty || insecureHTTP || assertion || !downstream.isEmpty {
                r.problem(
                    "\(key): required_scopes, upstream_token_header, allowed_origins, insecure_http_upstream, identity_assertion and downstream apply only with "
                        + "\(key).upstream (gateway mode)")
            }
        }
        gateway.limits = GatewayGrantLimits.read(&r)
        gateway.connectTimeoutSeconds = r.duration("gateway.connect_timeout", default: 5, range: 1...120)
        gateway.responseTimeoutSeconds = r.duration("gateway.response_timeout", default: 120, range: 1...3600)
        gateway.idleTimeoutSeconds = r.duration("gateway.idle_timeout", default: 300, range: 5...86400)
        gateway.maxRequestBytes = r.int("gateway.max_request_bytes", default: 4 * 1024 * 1024, range: 1024...(256 * 1024 * 1024))
        gateway.maxConnections = r.int("gateway.max_connections", default: 1000, range: 1...100_000)
        gateway.poolIdleTimeoutSeconds = r.duration("gateway.pool_idle_timeout", default: 4, range: 1...3600)
        ema = EMAConfiguration.read(&r)
    }

    /// A list of PEM blocks: a YAML list, or one text (the key, its
    /// environment variable or its `_file`) holding one or more blocks.
    static func readPEMList(_ r: inout ConfigReader, _ path: String) -> [String] {
        if case .list = r.node(path) { return r.stringList(path, default: []) }
        guard let text = r.secret(path) else { return [] }
        return PEMBlocks.split(text)
    }
}

/// Splits text holding several PEM blocks (RFC 7468 §2) into one string per block.
public enum PEMBlocks {
    public static func split(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingWhitespace()
            if trimmed.hasPrefix("-----BEGIN ") { current = [] }
            current.append(Substring(trimmed))
            if trimmed.hasPrefix("-----END ") {
                blocks.append(current.joined(separator: "\n") + "\n")
                current = []
            }
        }
        return blocks
    }
}
