public import ShimCore

/// What the shim needs from the identity provider. `OIDCUpstream` speaks to a
/// real one over HTTP; tests may substitute their own.
public protocol UpstreamIdP: Sendable {
    /// The authorization URL the browser is sent to (RFC 6749 §4.1.1).
    func authorizationURL(state: String, codeChallenge: String, nonce: String?, scope: ScopeSet) async throws(OAuthError) -> String
    /// Exchanges the upstream code (RFC 6749 §4.1.3) with the shim's own verifier.
    func exchangeCode(_ code: String, codeVerifier: String) async throws(OAuthError) -> UpstreamTokenResponse
    /// Refreshes upstream (RFC 6749 §6).
    func refresh(_ refreshToken: String, scope: ScopeSet) async throws(OAuthError) -> UpstreamTokenResponse
    /// Revokes an upstream refresh token (RFC 7009) when the IdP offers it; best effort.
    func revoke(refreshToken: String) async
    /// Whether the IdP's endpoints are known (discovery succeeded or not needed).
    func isReady() async -> Bool
    /// The user's subject when the token response carried no ID token
    /// (GitHub's `GET /user`, OIDC userinfo); nil when the IdP has no such endpoint.
    func subject(accessToken: String) async throws(OAuthError) -> String?
    /// What an error the IdP put on its redirect to `/callback` means, for
    /// the client and for the operator's log.
    func explainAuthorizationError(_ error: String, description: String?) -> UpstreamFailure
    /// Checks the ID token of a code exchange and returns its subject: the
    /// signature against the IdP's keys when it publishes them, `iss`, `aud`,
    /// `exp` (OIDC Core §3.1.3.7) and the `nonce` that was sent.
    func verifyIDToken(_ idToken: String, nonce: String?) async throws(OAuthError) -> String?
    /// A token for another API as the signed-in user (`resources[i].downstream`),
    /// with the user's upstream access token as the assertion: Entra's
    /// on-behalf-of or RFC 8693 token exchange (`method`). Throws
    /// `DownstreamRefusal` when the IdP refuses, an `OAuthError` otherwise.
    func downstreamToken(_ api: DownstreamAPI, method: DownstreamMethod, assertion: String) async throws -> UpstreamTokenResponse
}

extension UpstreamIdP {
    public func subject(accessToken: String) async throws(OAuthError) -> String? { nil }

    public func downstreamToken(_ api: DownstreamAPI, method: DownstreamMethod, assertion: String) async throws -> UpstreamTokenResponse {
        throw OAuthError(.serverError, "the identity provider issues no tokens for other APIs", detail: "no downstream token exchange")
    }

    /// Without keys (fakes in tests): the nonce and the subject only.
    public func verifyIDToken(_ idToken: String, nonce: String?) async throws(OAuthError) -> String? {
        try UnverifiedIDToken.check(idToken, nonce: nonce)
    }

    public func explainAuthorizationError(_ error: String, description: String?) -> UpstreamFailure {
        let report = UpstreamErrorReport(phase: .authorization, status: nil, error: error, description: description ?? "")
        return GenericErrors.explain(
            report,
            context: FailureContext(
                preset: .oidc, callbackURL: "<issuer>/callback", clientID: "the upstream client",
                tokenEndpointAuthMethod: "the configured method"))
    }
}
