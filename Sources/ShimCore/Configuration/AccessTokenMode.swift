/// `tokens.access`: what a client's access token is.
public enum AccessTokenMode: String, Sendable, Equatable, CaseIterable {
    /// The IdP's own access token for the resource's mapped scopes (default):
    /// an MCP server that already validates its IdP's tokens needs no change.
    case upstream
    /// The shim's own RFC 9068 JWT, bound to the resource (`IssuedTokenConfiguration`).
    case issued
}
