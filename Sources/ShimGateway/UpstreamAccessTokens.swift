public import Logging

/// Where the gateway gets the user's upstream access token to inject
/// (`resources[i].upstream_token_header`). The executable wires the
/// authorization server's own refresh machinery in
/// (`ShimServices.upstreamAccessToken`), so there is one refresh path and
/// the gateway does not depend on the server target.
public protocol UpstreamAccessTokens: Sendable {
    /// The current upstream access token of the grant, refreshed at the IdP
    /// when it is about to expire; nil for a grant that has none (an ID-JAG
    /// grant: the user never signed in at the upstream here). Throws an
    /// `OAuthError`: `invalid_grant` when the grant is revoked or the IdP
    /// refuses to refresh it (the user must sign in again),
    /// `temporarily_unavailable` when the IdP is down.
    func upstreamAccessToken(grantID: String, logger: Logger) async throws -> String?
}
