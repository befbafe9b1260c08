public import ShimCore

/// The IdP endpoints the shim uses.
public struct UpstreamEndpoints: Sendable, Equatable {
    public var authorization: String
    public var token: String
    public var revocation: String?
    /// OIDC userinfo (GitHub: `/user`): the subject when there is no ID token.
    public var userinfo: String?
    /// The IdP's signing keys, when it publishes them.
    public var jwks: String?
    /// The issuer the IdP's discovery document names (what its ID tokens carry).
    public var issuer: String?
    /// Discovery's `id_token_signing_alg_values_supported`.
    public var idTokenAlgorithms: [String]?
    /// Discovery's `token_endpoint_auth_methods_supported` (doctor checks `private_key_jwt` is listed).
    public var tokenAuthMethods: [String]?

    public init(authorization: String, token: String, revocation: String? = nil, userinfo: String? = nil, jwks: String? = nil) {
        self.authorization = authorization
        self.token = token
        self.revocation = revocation
        self.userinfo = userinfo
        self.jwks = jwks
    }

    /// Endpoints known without discovery: explicit configuration, or the
    /// preset's fixed URLs (Entra v2 from the tenant; GitHub, which
    /// publishes no discovery document).
    public static func fixed(for config: UpstreamConfiguration) -> UpstreamEndpoints? {
        IdPProfile.of(config.preset).fixedEndpoints(config)
    }

    /// The discovery base when none is configured.
    public static func defaultIssuer(for config: UpstreamConfiguration) -> String? {
        IdPProfile.of(config.preset).discoveryIssuer(config)
    }

    /// Where to look for metadata, in order: OIDC Discovery §4 (appended),
    /// then RFC 8414 §3.1 (path inserted), then RFC 8414 appended (as some IdPs serve it).
    public static func discoveryURLs(issuer: String) -> [String] {
        let trimmed = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        var urls = [trimmed + "/.well-known/openid-configuration"]
        if let uri = RedirectURI(trimmed), uri.path != "/" && !uri.path.isEmpty {
            let origin = "\(uri.scheme)://\(uri.host)\(uri.port.map { ":\($0)" } ?? "")"
            urls.append(origin + "/.well-known/oauth-authorization-server" + uri.path)
        }
        urls.append(trimmed + "/.well-known/oauth-authorization-server")
        return urls
    }
}
