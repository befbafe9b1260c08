import Foundation
import Logging
import ShimCore
import ShimStorage

/// Leg 2 of Enterprise-Managed Authorization: an ID-JAG presented as an
/// RFC 7523 §2.1 jwt-bearer grant (draft-ietf-oauth-identity-assertion-authz-grant
/// §4.4). The assertion is checked (`EMAAssertions`, `IDJAGRules`), its
/// `jti` is recorded once for every replica, and the answer is an issued
/// access token for the ID-JAG's user, without a refresh token ("The
/// Resource Authorization Server SHOULD NOT return a Refresh Token", §4.4.3:
/// the client presents a new ID-JAG instead). The token's grant is recorded
/// so that revocation (`grants revoke`, RFC 7009) ends it at the gateway and
/// /introspect; it holds no upstream tokens.
struct JWTBearerGrant: GrantHandler {
    let store: any GrantStore & ClientStore & AssertionReplayStore
    let assertions: EMAAssertions
    let responder: TokenResponder
    let auditor: Auditor
    let clock: any ShimClock
    /// This server's issuer: the `aud` an ID-JAG must name.
    let audience: String
    /// The upstream IdP's issuer: the subject issuer of the shim's own
    /// ID-JAGs, whose `sub` is the IdP's user as the code flow names it.
    let upstreamIssuer: String
    let resourcePolicy: ResourcePolicy
    /// `ema.max_assertion_lifetime`.
    let maxAssertionLifetimeSeconds: Int
    /// `tokens.issued.access_ttl`: the grant lives as long as its one access token.
    let accessTTLSeconds: Int

    var grantType: GrantType { .jwtBearer }

    func exchange(_ form: [String: String], client: RegisteredClient, logger: Logger) async throws -> TokenResponse {
        guard let assertion = form["assertion"] else { throw OAuthError.invalidRequest("assertion is missing") }
        let verified = try await assertions.verify(assertion)
        let claims = verified.claims
        let now = clock.now()
        // The issuer compared is the one whose key verified the signature, not
        // the claim compared with itself.
        let granted = try IDJAGRules.check(
            claims, trustedIssuer: verified.issuer, audience: audience, clientID: client.clientID,
            requestedResource: form["resource"], requestedScope: form["scope"],
            policy: resourcePolicy, now: Int(now.timeIntervalSince1970),
            maxLifetime: maxAssertionLifetimeSeconds, resourceRequired: verified.resourceRequired)
        let recordedUntil = Date(timeIntervalSince1970: TimeInterval(claims.expiresAt + IDJAGRules.replayRecordMarginSeconds))
        guard try await store.recordAssertionID(EMAAssertions.replayKey(claims), expiresAt: recordedUntil, now: now) else {
            logger.warning(
                "ID-JAG replayed",
                metadata: [
                    "client_id": "\(client.clientID)", "issuer": "\(claims.issuer)",
                    "jti": "\(SecretToken.logTag(claims.tokenID))",
                ])
            throw OAuthError.invalidGrant("the assertion is not accepted: it was already used (its jti is single use)")
        }
        // Rule 13 (OIDC Core §5.7): the user is the pair (issuer, sub), so a
        // trusted issuer naming another issuer's `sub` is another user; its
        // `email` only when verified and the issuer is authoritative for it.
        let email = SubjectIdentity.verifiedEmail(claims.extra, trust: verified.emailTrust)
        let grant = Grant(
            id: SecretToken.generate(bytes: 16), clientID: client.clientID, subject: granted.subject, resource: granted.resource,
            scope: granted.scope, upstreamScope: ScopeSet(values: []), upstream: nil, createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(accessTTLSeconds)),
            claims: email.map { ["email": $0] }, subjectIssuer: verified.isOwn ? upstreamIssuer : claims.issuer)
        guard try await store.createGrant(grant, firstRefreshToken: nil) else {
            throw OAuthError(.serverError, "the grant could not be recorded", detail: "grant id collision")
        }
        try await store.markClientUsed(id: client.clientID, at: now)
        await auditor.record(
            AuditEvent(
                at: now, kind: .idJAGAccepted, clientID: client.clientID, clientName: client.clientName,
                subject: granted.subject, resource: granted.resource, scope: granted.scope.text,
                detail: "issuer \(claims.issuer) jti \(SecretToken.logTag(claims.tokenID)) grant \(grant.id.prefix(8))"),
            logger: logger)
        return try await responder.respond(IssuanceTarget(grant: grant), upstream: nil, refreshToken: nil, logger: logger)
    }
}
