public import Logging
public import ShimCore

/// Where the gateway gets a token for an API behind an MCP server
/// (`resources[i].downstream`), obtained as the signed-in user with the
/// user's upstream access token. The executable wires the authorization
/// server's broker in (`DownstreamTokenBroker`), which caches it sealed per
/// grant and obtains it again before it expires.
public protocol DownstreamTokens: Sendable {
    /// The API's token for the grant's user. Throws `DownstreamRefusal` when
    /// the IdP refuses (consent missing, MFA needed, scope unknown); an
    /// `OAuthError` `invalid_grant` when the grant is revoked or the user
    /// must sign in again; anything else when the IdP cannot be reached.
    func downstreamToken(grantID: String, api: DownstreamAPI, logger: Logger) async throws -> String
}
