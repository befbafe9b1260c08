/// Configuration rules per identity provider, each from the provider's own
/// documentation. The wire behaviour of each preset (parameters, client
/// authentication, subject, refresh, errors) is in ShimUpstream's
/// `IdPProfile`; what can be known from the configuration alone is checked
/// here, so that `check-config` says it before a user meets it.
extension UpstreamConfiguration {
    /// The reserved OIDC scopes that name no resource: Entra accepts them next
    /// to one resource's scopes; GitHub knows none of them.
    static let oidcScopes: Set<String> = ["openid", "profile", "email", "offline_access"]

    /// Errors `check-config` prints for the preset.
    func presetProblems() -> [String] {
        var problems: [String] = []
        switch preset {
        case .entra:
            // https://learn.microsoft.com/entra/identity-platform/reference-error-codes (AADSTS901002,
            // AADSTS9010010): the v2 endpoints refuse `resource`; the API is named by its scopes.
            for (key, params) in [("extra_authorize_params", extraAuthorizeParams), ("extra_token_params", extraTokenParams)]
            where params["resource"] != nil {
                problems.append(
                    "upstream.\(key).resource: Entra's v2 endpoints refuse `resource` (AADSTS901002); name the API by its scopes in resources[].scopes"
                )
            }
        case .auth0:
            // https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens: without `audience`
            // Auth0 issues an opaque token good only for its /userinfo, not a token for your API.
            if (audience ?? extraAuthorizeParams["audience"] ?? "").isEmpty {
                problems.append(
                    "upstream.audience: required for auth0: the Identifier of your API (Auth0 dashboard → Applications → APIs), or Auth0 issues no token for it"
                )
            }
        case .okta:
            // https://developer.okta.com/docs/concepts/auth-servers/: only a custom authorization
            // server (`https://<org>.okta.com/oauth2/<id>`, e.g. `/oauth2/default`) issues tokens for your API.
            if let issuer, !issuer.contains("/oauth2/") {
                problems.append(
                    "upstream.issuer: for okta, the custom authorization server's issuer, https://<org>.okta.com/oauth2/default or /oauth2/<id> (Okta admin console → Security → API → Authorization Servers); the org server issues no tokens for your API"
                )
            }
        case .keycloak:
            // https://www.keycloak.org/securing-apps/oidc-layers: the issuer is `<base>/realms/<realm>`.
            if let issuer, !issuer.contains("/realms/") {
                problems.append(
                    "upstream.issuer: for keycloak, the realm's issuer, https://<host>/realms/<realm> (older Keycloak: https://<host>/auth/realms/<realm>)"
                )
            }
        case .github:
            // https://docs.github.com/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps: GitHub
            // OAuth apps have no OpenID Connect; scopes are GitHub's own (read:user, repo, ...).
            let oidc = scopes.filter(Self.oidcScopes.contains)
            if !oidc.isEmpty {
                problems.append(
                    "upstream.scopes: GitHub has no OpenID Connect; remove \(oidc.joined(separator: ", ")) (GitHub scopes are e.g. read:user)")
            }
        case .google:
            // https://developers.google.com/identity/protocols/oauth2/web-server#offline: Google refuses the
            // `offline_access` scope (invalid_scope); offline access is `access_type=offline`, which the preset sends.
            if scopes.contains("offline_access") {
                problems.append(
                    "upstream.scopes: Google refuses offline_access (invalid_scope); the google preset asks for a refresh token with access_type=offline instead"
                )
            }
        case .oidc:
            break
        }
        return problems
    }

    /// What the operator should know about the preset, printed by
    /// `check-config` and logged at start: what it cannot do, and why.
    public func presetNotes() -> [String] {
        switch preset {
        case .github:
            [
                "github: GitHub returns a refresh token only when the OAuth app has \"Expire user authorization tokens\" enabled (GitHub → Settings → Developer settings → OAuth Apps → your app → Optional features); without it clients get no refresh token and GitHub's access token does not expire",
                "github: no ID token: the subject is the numeric id GitHub's /user answers",
            ]
        case .google:
            [
                "google: a refresh token is asked for with access_type=offline, and prompt=consent so that Google issues one again for a user who consented before"
            ]
        case .entra where ["common", "organizations", "consumers"].contains(tenant ?? ""):
            [
                "entra: tenant \(tenant ?? "") serves users of several tenants: the app registration must be multi-tenant (Authentication → Supported account types), or Entra answers AADSTS50194"
            ]
        case .okta:
            [
                "okta: refresh tokens need the Refresh Token grant type on the app (Applications → your app → General → Grant type) and offline_access allowed by the authorization server's access policy"
            ]
        case .auth0:
            [
                "auth0: refresh tokens need \"Allow Offline Access\" on the API (Applications → APIs → your API → Settings) and offline_access in upstream.scopes"
            ]
        default:
            []
        }
    }
}
