/// `resources[i].identity_assertion`: a signed statement of who is calling,
/// for an MCP server behind the gateway that wants to verify rather than
/// trust the plain `X-Forwarded-*` headers (as Pomerium's
/// `X-Pomerium-Jwt-Assertion` and Cloudflare Access's
/// `Cf-Access-Jwt-Assertion`). An ES256 JWT signed with the shim's own
/// keys, verifiable against its `/jwks.json`.
public enum IdentityAssertion {
    /// The request header that carries it. Clients' copies are removed
    /// (`ProxyHeaderPolicy.identityHeaders`).
    public static let headerName = "X-DCR-Shim-Assertion"

    /// RFC 8725 §3.11 explicit typing: neither an access token (`at+jwt`,
    /// which the gateway requires, so a leaked assertion is no bearer
    /// token) nor an ID token or ID-JAG; a verifier should require it.
    public static let mediaType = "identity+jwt"

    /// Short-lived: made per request, read at once by the MCP server.
    public static let lifetimeSeconds = 60

    /// The assertion for one request: `iss` the shim, `aud` the resource,
    /// `sub` and `sub_id` as in the validated token (rule 13), its
    /// `client_id`, `scope` and copied claims (a verified `email` only), a
    /// fresh `jti`, `iat` now and `exp` a minute later; no `sid` (a grant
    /// id is of no use to the MCP server).
    public static func claims(for token: AccessTokenClaims, issuer: String, resource: String, now: Int, tokenID: String) -> AccessTokenClaims {
        AccessTokenClaims(
            issuer: issuer, subject: token.subject, audience: [resource], expiresAt: now + lifetimeSeconds, issuedAt: now,
            tokenID: tokenID, clientID: token.clientID, scope: token.scope, grantID: nil, subjectID: token.subjectID,
            extra: token.extra)
    }
}
