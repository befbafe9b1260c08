import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

extension TokenEndpoint {
    /// Leg 2 of Enterprise-Managed Authorization: an ID-JAG presented as an
    /// RFC 7523 §2.1 jwt-bearer grant (draft-ietf-oauth-identity-assertion-authz-grant
    /// §4.4). The client authenticated above; the assertion is checked
    /// (`EMAAssertions`, `IDJAGRules`), its `jti` is recorded once for every
    /// replica, and the answer is an issued access token for the ID-JAG's
    /// user, without a refresh token ("The Resource Authorization Server
    /// SHOULD NOT return a Refresh Token", §4.4.3: the client presents a new
    /// ID-JAG instead). The token's grant is recorded so that revocation
    /// (`grants revoke`, RFC 7009) ends it at the gateway and /introspect.
    static func jwtBearer(_ form: [String: String], client: RegisteredClient, services: ShimServices,
                          context: ShimRequestContext) async throws -> [String: Any] {
        guard let assertion = form["assertion"] else { throw OAuthError.invalidRequest("assertion is missing") }
        let verified = try await EMAAssertions.verify(assertion, services: services)
        let claims = verified.claims
        let now = services.now
        // The issuer compared is the one whose key verified the signature, not
        // the claim compared with itself.
        let granted = try IDJAGRules.check(claims, trustedIssuer: verified.issuer, audience: services.issuer, clientID: client.clientID,
                                           requestedResource: form["resource"], requestedScope: form["scope"],
                                           policy: services.resourcePolicy, now: Int(now.timeIntervalSince1970),
                                           maxLifetime: services.config.ema.maxAssertionLifetimeSeconds,
                                           resourceRequired: verified.resourceRequired)
        let recordedUntil = Date(timeIntervalSince1970: TimeInterval(claims.expiresAt + IDJAGRules.replayRecordMarginSeconds))
        guard try await services.store.recordAssertionID(EMAAssertions.replayKey(claims), expiresAt: recordedUntil, now: now) else {
            context.logger.warning("ID-JAG replayed", metadata: ["client_id": "\(client.clientID)", "issuer": "\(claims.issuer)",
                                                                 "jti": "\(SecretToken.logTag(claims.tokenID))"])
            throw OAuthError.invalidGrant("the assertion is not accepted: it was already used (its jti is single use)")
        }
        // A grant of its own: no upstream tokens, no refresh token given out.
        let grantID = SecretToken.generate(bytes: 16)
        let none = SealedUpstreamTokens(accessToken: "", accessTokenExpiresAt: nil, refreshToken: nil, tokenType: "N_A", scope: nil)
        let grant = Grant(id: grantID, clientID: client.clientID, subject: granted.subject, resource: granted.resource, scope: granted.scope,
                          upstreamScope: ScopeSet(values: []), upstream: none, createdAt: now,
                          expiresAt: now.addingTimeInterval(TimeInterval(services.config.issuedTokens.accessTTLSeconds)),
                          claims: claims.extra["email"].map { ["email": $0] })
        guard try await services.store.createGrant(grant, refreshTokenHash: SecretToken.hash(SecretToken.generate()),
                                                   refreshToken: RefreshTokenRecord(grantID: grantID, clientID: client.clientID, issuedAt: now)) else {
            throw OAuthError(.serverError, "the grant could not be recorded", detail: "grant id collision")
        }
        try await services.store.markClientUsed(id: client.clientID, at: now)
        await Audit.record(AuditEvent(at: now, kind: .idJAGAccepted, clientID: client.clientID, clientName: client.clientName,
                                      subject: granted.subject, resource: granted.resource, scope: granted.scope.text,
                                      detail: "issuer \(claims.issuer) jti \(SecretToken.logTag(claims.tokenID)) grant \(grantID.prefix(8))"),
                           services: services, logger: context.logger)
        return try await TokenIssuance.tokenResponse(IssuanceTarget(grant: grant), upstream: none, refreshToken: nil,
                                                     services: services, logger: context.logger)
    }
}
