public import ShimCore

/// How the shim speaks to one identity provider, each line from the
/// provider's own documentation (linked on each preset): what the authorize
/// request adds, how refresh behaves, where the subject comes from, how its
/// errors read. `OIDCUpstream` follows it; `dcr-shim doctor` checks against it.
public struct IdPProfile: Sendable {
    /// Where the user's stable identifier comes from.
    public enum SubjectSource: String, Sendable, Equatable {
        /// The ID token's `sub` (OIDC Core §2).
        case idToken = "the ID token's sub"
        /// GitHub has no ID token: the `id` of `GET /user` (its `login` can change).
        case githubUser = "the id of GitHub's GET /user"
    }

    /// What the IdP does with its refresh token on refresh; the shim keeps
    /// the newest one it was given, and the old one when none comes back.
    public enum RefreshBehaviour: String, Sendable, Equatable {
        /// A new refresh token every time.
        case rotates = "rotates its refresh token"
        /// The same refresh token stays valid.
        case keeps = "keeps its refresh token"
        /// Either, by the IdP's settings.
        case configurable = "rotates or keeps its refresh token, by its settings"
        /// Refresh tokens exist only when the app enables them (GitHub's expiring user tokens).
        case onlyWhenEnabled = "issues refresh tokens only when the app enables expiring tokens"
    }

    public let preset: UpstreamPreset
    public let displayName: String
    /// The provider documentation this profile follows.
    public let documentation: String
    public let subject: SubjectSource
    public let refresh: RefreshBehaviour
    /// A refresh request names the scopes again. Entra issues one resource's
    /// token per request and documents `scope` as required on refresh
    /// (without it the new token is for Microsoft Graph); Google and GitHub
    /// document no `scope` on refresh.
    public let scopeOnRefresh: Bool
    /// GitHub answers token-endpoint errors with 200 and an `error` member.
    public let errorsWithStatus200: Bool
    /// How a token for an API behind an MCP server is obtained as the user
    /// (`resources[i].downstream`): Entra's on-behalf-of, RFC 8693 token
    /// exchange (Okta, Keycloak), or none (Google, GitHub, Auth0; `oidc`
    /// only when the operator names token exchange). The table itself is
    /// `UpstreamPreset.downstreamMethod`, which check-config reads.
    public var downstream: DownstreamMethod? { preset.downstreamMethod }

    public static func of(_ preset: UpstreamPreset) -> IdPProfile {
        switch preset {
        case .entra:
            // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
            IdPProfile(
                preset: preset, displayName: "Microsoft Entra ID",
                documentation: "https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow",
                subject: .idToken, refresh: .rotates, scopeOnRefresh: true, errorsWithStatus200: false)
        case .okta:
            // https://developer.okta.com/docs/api/openapi/okta-oauth/guides/overview/ (custom authorization servers)
            IdPProfile(
                preset: preset, displayName: "Okta",
                documentation: "https://developer.okta.com/docs/guides/implement-grant-type/authcodepkce/main/",
                subject: .idToken, refresh: .configurable, scopeOnRefresh: true, errorsWithStatus200: false)
        case .google:
            // https://developers.google.com/identity/protocols/oauth2/web-server
            IdPProfile(
                preset: preset, displayName: "Google",
                documentation: "https://developers.google.com/identity/protocols/oauth2/web-server",
                subject: .idToken, refresh: .keeps, scopeOnRefresh: false, errorsWithStatus200: false)
        case .github:
            // https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
            IdPProfile(
                preset: preset, displayName: "GitHub",
                documentation: "https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
                subject: .githubUser, refresh: .onlyWhenEnabled, scopeOnRefresh: false, errorsWithStatus200: true)
        case .auth0:
            // https://auth0.com/docs/get-started/authentication-and-authorization-flow/authorization-code-flow-with-pkce
            IdPProfile(
                preset: preset, displayName: "Auth0",
                documentation: "https://auth0.com/docs/get-started/authentication-and-authorization-flow/authorization-code-flow-with-pkce",
                subject: .idToken, refresh: .configurable, scopeOnRefresh: true, errorsWithStatus200: false)
        case .keycloak:
            // https://www.keycloak.org/securing-apps/oidc-layers
            IdPProfile(
                preset: preset, displayName: "Keycloak", documentation: "https://www.keycloak.org/securing-apps/oidc-layers",
                subject: .idToken, refresh: .configurable, scopeOnRefresh: true, errorsWithStatus200: false)
        case .oidc:
            // OpenID Connect Core 1.0 and RFC 6749.
            IdPProfile(
                preset: preset, displayName: "OpenID Connect provider",
                documentation: "https://openid.net/specs/openid-connect-core-1_0.html",
                subject: .idToken, refresh: .configurable, scopeOnRefresh: true, errorsWithStatus200: false)
        }
    }

    /// The parameters the preset adds to every authorize request, then the
    /// operator's `upstream.extra_authorize_params` (which win on the same name).
    public func authorizeParameters(_ config: UpstreamConfiguration) -> [(String, String)] {
        var own: [(String, String)] = []
        switch preset {
        case .google:
            // https://developers.google.com/identity/protocols/oauth2/web-server#offline: "set
            // access_type to offline" for a refresh token; it is returned only on the first
            // consent unless the user is asked again (`prompt=consent`).
            own = [("access_type", "offline"), ("prompt", "consent")]
        case .auth0:
            // https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens: `audience` names the API.
            if let audience = config.audience { own = [("audience", audience)] }
        default:
            break
        }
        let extra = config.extraAuthorizeParams
        return own.filter { extra[$0.0] == nil } + extra.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Endpoints known without discovery: the operator's, or the provider's fixed ones.
    public func fixedEndpoints(_ config: UpstreamConfiguration) -> UpstreamEndpoints? {
        let userinfo = config.userinfoEndpoint ?? defaultUserinfoEndpoint
        if let authorization = config.authorizationEndpoint, let token = config.tokenEndpoint {
            return UpstreamEndpoints(authorization: authorization, token: token, revocation: config.revocationEndpoint, userinfo: userinfo)
        }
        switch preset {
        case .entra:
            let base = "https://login.microsoftonline.com/\(config.tenant ?? "common")/oauth2/v2.0"
            return UpstreamEndpoints(authorization: base + "/authorize", token: base + "/token", userinfo: userinfo)
        case .github:
            // GitHub publishes no discovery document.
            return UpstreamEndpoints(
                authorization: "https://github.com/login/oauth/authorize",
                token: "https://github.com/login/oauth/access_token", userinfo: userinfo)
        default:
            return nil
        }
    }

    /// The discovery base: the configured issuer, or the provider's.
    public func discoveryIssuer(_ config: UpstreamConfiguration) -> String? {
        if let issuer = config.issuer { return issuer }
        switch preset {
        case .google: return "https://accounts.google.com"
        // https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri
        case .entra: return "https://login.microsoftonline.com/\(config.tenant ?? "common")/v2.0"
        default: return nil
        }
    }

    /// Where the subject is read when there is no ID token.
    var defaultUserinfoEndpoint: String? {
        // https://docs.github.com/rest/users/users#get-the-authenticated-user
        preset == .github ? "https://api.github.com/user" : nil
    }

    /// The client's error and the operator's hint for an IdP error.
    public func explain(_ report: UpstreamErrorReport, context: FailureContext) -> UpstreamFailure {
        ProviderErrors.explain(report, context: context)
    }
}
