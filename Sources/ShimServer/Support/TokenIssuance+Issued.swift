import Foundation
import Logging
import ShimCore
import ShimStorage
import ShimTokens

/// What a token response is for: one grant (token family) of one client.
struct IssuanceTarget: Sendable {
    var grantID: String
    var clientID: String
    var subject: String?
    var resource: String
    var scope: ScopeSet
    var claims: [String: JSONValue]?

    init(grant: Grant) {
        self.init(grantID: grant.id, clientID: grant.clientID, subject: grant.subject, resource: grant.resource,
                  scope: grant.scope, claims: grant.claims)
    }

    init(grantID: String, clientID: String, subject: String?, resource: String, scope: ScopeSet, claims: [String: JSONValue]?) {
        self.grantID = grantID
        self.clientID = clientID
        self.subject = subject
        self.resource = resource
        self.scope = scope
        self.claims = claims
    }
}

extension TokenIssuance {
    /// The ONE function every grant calls for its token response (RFC 6749
    /// §5.1). `tokens.access: upstream`: the IdP's access token, opened from
    /// the grant's sealed upstream tokens. `issued`: a fresh RFC 9068 JWT
    /// for the grant's resource, audited (`access_token_issued`).
    static func tokenResponse(_ target: IssuanceTarget, upstream: SealedUpstreamTokens, refreshToken: String?,
                              services: ShimServices, logger: Logger) async throws -> [String: Any] {
        let now = services.now
        guard services.config.accessTokenMode == .issued else {
            let access = try openAccessToken(upstream, grantID: target.grantID, services: services)
            return response(accessToken: access, upstream: upstream, refreshToken: refreshToken, scope: target.scope, now: now)
        }
        let claims = accessTokenClaims(target, services: services, now: now)
        let jwt = try await sign(claims, services: services)
        await Audit.record(AuditEvent(at: now, kind: .accessTokenIssued, clientID: target.clientID, subject: target.subject,
                                      resource: target.resource, scope: target.scope.text,
                                      detail: "grant \(target.grantID.prefix(8)) jti \(claims.tokenID.prefix(8)) exp \(claims.expiresAt)"),
                           services: services, logger: logger)
        var body: [String: Any] = ["access_token": jwt, "token_type": "Bearer", "scope": target.scope.text,
                                   "expires_in": services.config.issuedTokens.accessTTLSeconds]
        if let refreshToken { body["refresh_token"] = refreshToken }
        return body
    }

    /// RFC 9068 §2.2. `sub` is the upstream subject; an IdP that sent no ID
    /// token (GitHub) leaves the shim no user identifier, and `sub` then
    /// names the grant (`grant:<id>`), pseudonymous and stable for it.
    static func accessTokenClaims(_ target: IssuanceTarget, services: ShimServices, now: Date) -> AccessTokenClaims {
        let issuedAt = Int(now.timeIntervalSince1970)
        return AccessTokenClaims(
            issuer: services.issuer, subject: target.subject ?? "grant:" + target.grantID, audience: [target.resource],
            expiresAt: issuedAt + services.config.issuedTokens.accessTTLSeconds, issuedAt: issuedAt,
            tokenID: SecretToken.generate(bytes: 16), clientID: target.clientID, scope: target.scope.text,
            grantID: target.grantID, extra: target.claims ?? [:])
    }

    static func sign(_ claims: AccessTokenClaims, services: ShimServices) async throws(OAuthError) -> String {
        guard let keys = services.signingKeys else {
            throw OAuthError(.serverError, "tokens cannot be issued", detail: "issued mode without signing keys")
        }
        do { return try await keys.sign(claims, type: AccessTokenRules.mediaType) } catch {
            throw OAuthError(.serverError, "tokens cannot be issued", detail: "signing failed: \(error)")
        }
    }
}
