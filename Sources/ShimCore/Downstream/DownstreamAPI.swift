/// How the shim obtains a token for an API behind an MCP server as the
/// signed-in user, with the user's upstream access token as the proof.
public enum DownstreamMethod: String, Sendable, Equatable, CaseIterable {
    /// Microsoft identity platform on-behalf-of: the RFC 7523 JWT bearer
    /// grant with `requested_token_use=on_behalf_of`.
    case onBehalfOf = "on_behalf_of"
    /// RFC 8693 OAuth 2.0 Token Exchange.
    case tokenExchange = "token_exchange"
}

/// `resources[i].downstream[j]`: an API the MCP server calls for the user,
/// the header the gateway sends its token in, and the scopes asked for.
public struct DownstreamAPI: Sendable, Equatable {
    /// `name`: how logs, errors and the cache name it (e.g. `graph`).
    public var name: String
    /// `header`: where the MCP server receives the token (e.g. `X-Graph-Token`), the bare token.
    public var header: String
    /// `scopes`: e.g. `https://graph.microsoft.com/User.Read`.
    public var scopes: [String]
    /// `audience` (token exchange only): RFC 8693 §2.1 `audience`.
    public var audience: String?
    /// `method` (default: the preset's, `UpstreamPreset.downstreamMethod`).
    public var configuredMethod: DownstreamMethod?

    public init(name: String, header: String, scopes: [String], audience: String? = nil, method: DownstreamMethod? = nil) {
        self.name = name
        self.header = header
        self.scopes = scopes
        self.audience = audience
        self.configuredMethod = method
    }

    /// The method used with `preset`: the configured one, or the preset's own.
    public func method(for preset: UpstreamPreset) -> DownstreamMethod? {
        configuredMethod ?? preset.downstreamMethod
    }
}

/// Which downstream method each preset offers, from the provider's documentation.
extension UpstreamPreset {
    /// The method used when `downstream[j].method` is not set; nil when the
    /// provider offers none, or when only the operator can know (`oidc`).
    public var downstreamMethod: DownstreamMethod? {
        switch self {
        // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow
        case .entra: .onBehalfOf
        // https://developer.okta.com/docs/guides/set-up-token-exchange/main/ (custom authorization server)
        case .okta: .tokenExchange
        // https://www.keycloak.org/securing-apps/token-exchange (standard token exchange, on by default since 26.2)
        case .keycloak: .tokenExchange
        case .google, .github, .auth0, .oidc: nil
        }
    }

    /// The methods the provider accepts at all (`oidc`: token exchange when the operator says so).
    public var downstreamMethods: Set<DownstreamMethod> {
        switch self {
        case .oidc: [.tokenExchange]
        default: Set([downstreamMethod].compactMap { $0 })
        }
    }

    /// Why a preset has no downstream method, for check-config.
    public var downstreamRefusal: String {
        switch self {
        case .google: "Google offers neither on-behalf-of nor RFC 8693 token exchange for user tokens"
        case .github: "GitHub offers neither on-behalf-of nor RFC 8693 token exchange"
        case .auth0: "Auth0 offers no RFC 8693 exchange of a user's access token (its Custom Token Exchange runs your own code)"
        case .oidc: "set downstream[].method: token_exchange if the provider implements RFC 8693"
        case .entra: "Entra offers on-behalf-of, not RFC 8693 token exchange"
        case .okta, .keycloak: "Okta and Keycloak offer RFC 8693 token exchange, not Entra's on-behalf-of"
        }
    }
}
