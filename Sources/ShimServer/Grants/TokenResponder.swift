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
    /// Who asserted `subject`; nil: the upstream IdP.
    var subjectIssuer: String?

    init(grant: Grant) {
        self.init(
            grantID: grant.id, clientID: grant.clientID, subject: grant.subject, resource: grant.resource,
            scope: grant.scope, claims: grant.claims, subjectIssuer: grant.subjectIssuer)
    }

    init(
        grantID: String, clientID: String, subject: String?, resource: String, scope: ScopeSet, claims: [String: JSONValue]?,
        subjectIssuer: String?
    ) {
        self.grantID = grantID
        self.clientID = clientID
        self.subject = subject
        self.resource = resource
        self.scope = scope
        self.claims = claims
        self.subjectIssuer = subjectIssuer
    }
}

/// The ONE place every grant's token response is made (RFC 6749 §5.1).
/// `tokens.access: upstream`: the IdP's access token; the refresh token,
/// when there is one, is the shim's own. `issued`: a fresh RFC 9068 JWT for
/// the grant's resource, audited (`access_token_issued`).
struct TokenResponder: Sendable {
    let mode: AccessTokenMode
    let issuer: String
    let accessTTLSeconds: Int
    /// Required in `issued` mode (checked when the services are built).
    let signingKeys: SigningKeys?
    let vault: UpstreamTokenVault
    let auditor: Auditor
    let clock: any ShimClock
    /// The upstream IdP's issuer: the issuer of grants that name none.
    let upstreamIssuer: String
    /// Whether more than one issuer can assert users (rule 13): `sub` is
    /// then qualified by its issuer.
    let severalSubjectIssuers: Bool

    func respond(_ target: IssuanceTarget, upstream: UpstreamTokens?, refreshToken: String?, logger: Logger) async throws -> TokenResponse {
        let now = clock.now()
        guard mode == .issued else {
            guard let upstream else {
                throw OAuthError(.serverError, "tokens cannot be issued", detail: "a grant without upstream tokens in upstream mode")
            }
            let expiresIn = upstream.sealed.accessTokenExpiresAt.flatMap { Clamp.tokenLifetime($0.timeIntervalSince(now)) }
            return TokenResponse(
                accessToken: try vault.accessToken(upstream, grantID: target.grantID), expiresIn: expiresIn,
                refreshToken: refreshToken, scope: target.scope.text)
        }
        let claims = accessTokenClaims(target, now: now)
        let jwt = try await sign(claims)
        await auditor.record(
            AuditEvent(
                at: now, kind: .accessTokenIssued, clientID: target.clientID, subject: target.subject,
                resource: target.resource, scope: target.scope.text,
                detail: "grant \(target.grantID.prefix(8)) jti \(claims.tokenID.prefix(8)) exp \(claims.expiresAt)"),
            logger: logger)
        return TokenResponse(accessToken: jwt, expiresIn: accessTTLSeconds, refreshToken: refreshToken, scope: target.scope.text)
    }

    /// RFC 9068 §2.2. `sub` is the upstream subject, qualified by its issuer
    /// when several issuers can assert users (rule 13, `SubjectIdentity`),
    /// and `sub_id` (RFC 9493) names the pair; an IdP that sent no ID token
    /// (GitHub) leaves the shim no user identifier, and `sub` then names the
    /// grant (`grant:<id>`), pseudonymous and stable for it.
    func accessTokenClaims(_ target: IssuanceTarget, now: Date) -> AccessTokenClaims {
        let issuedAt = Int(now.timeIntervalSince1970)
        let subjectIssuer = target.subjectIssuer ?? upstreamIssuer
        let subject = target.subject.map {
            SubjectIdentity.qualified(subject: $0, issuer: subjectIssuer, severalIssuers: severalSubjectIssuers)
        }
        return AccessTokenClaims(
            issuer: issuer, subject: subject ?? "grant:" + target.grantID, audience: [target.resource],
            expiresAt: issuedAt + accessTTLSeconds, issuedAt: issuedAt,
            tokenID: SecretToken.generate(bytes: 16), clientID: target.clientID, scope: target.scope.text,
            grantID: target.grantID, subjectID: target.subject.map { IssuerSubjectIdentifier(issuer: subjectIssuer, subject: $0) },
            extra: target.claims ?? [:])
    }

    func sign(_ claims: AccessTokenClaims) async throws(OAuthError) -> String {
        guard let signingKeys else {
            throw OAuthError(.serverError, "tokens cannot be issued", detail: "issued mode without signing keys")
        }
        do { return try await signingKeys.sign(claims, type: AccessTokenRules.mediaType) } catch {
            throw OAuthError(.serverError, "tokens cannot be issued", detail: "signing failed: \(error)")
        }
    }
}
