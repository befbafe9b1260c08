public import ShimCore

/// The IdP endpoints the shim uses.
public struct UpstreamEndpoints: Sendable, Equatable {
    public var authorization: String
    public var token: String
    public var revocation: String?

    public init(authorization: String, token: String, revocation: String? = nil) {
        self.authorization = authorization
        self.token = token
        self.revocation = revocation
    }

    /// Endpoints known without discovery: explicit configuration, or the
    /// preset's fixed URLs (Entra v2 from the tenant; GitHub, which
    /// publishes no discovery document).
    public static func fixed(for config: UpstreamConfiguration) -> UpstreamEndpoints? {
        if let authorization = config.authorizationEndpoint, let token = config.tokenEndpoint {
            return UpstreamEndpoints(authorization: authorization, token: token, revocation: config.revocationEndpoint)
        }
        switch config.preset {
        case .entra:
            let tenant = config.tenant ?? "common"
            let base = "https://login.microsoftonline.com/\(tenant)/oauth2/v2.0"
            return UpstreamEndpoints(authorization: base + "/authorize", token: base + "/token")
        case .github:
            return UpstreamEndpoints(authorization: "https://github.com/login/oauth/authorize",
                                     token: "https://github.com/login/oauth/access_token")
        default:
            return nil
        }
    }

    /// The discovery base when none is configured.
    public static func defaultIssuer(for config: UpstreamConfiguration) -> String? {
        if let issuer = config.issuer { return issuer }
        if config.preset == .google { return "https://accounts.google.com" }
        return nil
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
