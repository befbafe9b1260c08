import Foundation
import Logging
import ShimCore
import ShimStorage

/// RFC 6749 §4.1.3 with RFC 7636 §4.6 and rule 6: an authorization code
/// from /callback, redeemed once by the client it was issued to, with its
/// PKCE verifier.
struct AuthorizationCodeGrant: GrantHandler {
    let store: any AuthorizationCodeStore & GrantStore & ClientStore
    let refresher: UpstreamRefresher
    let responder: TokenResponder
    let auditor: Auditor
    let clock: any ShimClock
    /// `tokens.refresh_ttl`: how long the grant (token family) lives.
    let refreshTTLSeconds: Int
    /// `tokens.access: issued`: issued tokens name their grant (`sid`) for
    /// revocation checks, so the grant is recorded even when no refresh
    /// token is returned.
    let recordsEveryGrant: Bool

    var grantType: GrantType { .authorizationCode }

    func exchange(_ form: [String: String], client: RegisteredClient, logger: Logger) async throws -> TokenResponse {
        guard let code = form["code"] else { throw OAuthError.invalidRequest("code is missing") }
        guard let redirectURI = form["redirect_uri"] else { throw OAuthError.invalidRequest("redirect_uri is missing") }
        guard let verifier = form["code_verifier"] else { throw OAuthError.invalidRequest("code_verifier is missing (PKCE)") }
        let now = clock.now()
        let hash = SecretToken.hash(code)
        guard let stored = try await store.code(hash: hash, now: now) else {
            throw OAuthError.invalidGrant("the authorization code is invalid or expired")
        }
        // Every check before the code is used up: whoever intercepted a code
        // without its client's verifier (or is another client) can neither
        // redeem it nor burn it for the client it was issued to, and a replay
        // of theirs revokes nothing.
        let authorization = stored.record.request
        // §4.1.3: "ensure that the authorization code was issued to the authenticated confidential client".
        guard authorization.clientID == client.clientID else {
            throw OAuthError.invalidGrant("the authorization code was issued to another client")
        }
        // §4.1.3: redirect_uri must be "identical" to the one in the authorization request.
        guard redirectURI == authorization.redirectURI else {
            throw OAuthError.invalidGrant("redirect_uri does not match the authorization request")
        }
        guard PKCE.verify(verifier: verifier, challenge: authorization.codeChallenge) else {
            throw OAuthError.invalidGrant("code_verifier does not match the code_challenge")
        }
        try ResourcePolicy.checkSameResource(requested: form["resource"], bound: authorization.resource)
        let record: AuthorizationCodeRecord
        switch try await store.redeemCode(hash: hash, now: now) {
        case .invalid:
            throw OAuthError.invalidGrant("the authorization code is invalid or expired")
        case .replayed(let used):
            try await revokeReplayed(used, code: code, logger: logger)
            throw OAuthError.invalidGrant("the authorization code was already used")
        case .redeemed(let found):
            record = found
        }

        let refreshable = record.upstream.refreshToken != nil && client.mayUse(.refreshToken)
        var refreshToken: String?
        if refreshable || recordsEveryGrant {
            let grant = Grant(
                id: record.grantID, clientID: client.clientID, subject: record.subject, resource: authorization.resource,
                scope: authorization.scope, upstreamScope: authorization.upstreamScope, upstream: record.upstream, createdAt: now,
                expiresAt: now.addingTimeInterval(TimeInterval(refreshTTLSeconds)), claims: record.claims,
                subjectIssuer: record.subjectIssuer)
            let token = refreshable ? SecretToken.generate() : nil
            let first = token.map {
                StoredRefreshToken(
                    hash: SecretToken.hash($0),
                    record: RefreshTokenRecord(grantID: grant.id, clientID: client.clientID, issuedAt: now))
            }
            // A replay of this code that raced ahead revoked the grant first.
            guard try await store.createGrant(grant, firstRefreshToken: first) else {
                throw OAuthError.invalidGrant("the authorization code was already used")
            }
            refreshToken = token
        }
        try await store.markClientUsed(id: client.clientID, at: now)
        await auditor.record(
            AuditEvent(
                at: now, kind: .grantIssued, clientID: client.clientID, clientName: client.clientName,
                redirectHost: Audit.host(authorization.redirectURI), subject: record.subject, resource: authorization.resource,
                scope: authorization.scope.text, detail: "grant " + record.grantID.prefix(8)), logger: logger)
        let target = IssuanceTarget(
            grantID: record.grantID, clientID: client.clientID, subject: record.subject,
            resource: authorization.resource, scope: authorization.scope, claims: record.claims,
            subjectIssuer: record.subjectIssuer)
        return try await responder.respond(
            target, upstream: UpstreamTokens(stored: record.upstream), refreshToken: refreshToken,
            logger: logger)
    }

    /// Rule 6 / RFC 6749 §4.1.2: "If an authorization code is used more than
    /// once, the authorization server ... SHOULD revoke (when possible) all
    /// tokens previously issued based on that authorization code." Only the
    /// code's own client with its verifier gets here: the code and the
    /// verifier have both left that client, so its grant cannot be trusted.
    private func revokeReplayed(_ used: AuthorizationCodeRecord, code: String, logger: Logger) async throws {
        logger.warning(
            "authorization code replayed; revoking its grant",
            metadata: ["client_id": "\(used.request.clientID)", "code": "\(SecretToken.logTag(code))"])
        await auditor.record(
            AuditEvent(
                at: clock.now(), kind: .codeReplayed, clientID: used.request.clientID, subject: used.subject,
                resource: used.request.resource, detail: "grant " + used.grantID.prefix(8) + " revoked"),
            logger: logger)
        try await refresher.revoke(grantID: used.grantID, upstream: used.upstream)
    }
}
