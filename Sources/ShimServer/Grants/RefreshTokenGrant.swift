import Foundation
import Logging
import ShimCore
import ShimStorage

/// RFC 6749 §6 with rule 7: rotation on every use, binding to the client,
/// reuse detection with a grace window, and the upstream refresh behind it.
struct RefreshTokenGrant: GrantHandler {
    let store: any GrantStore
    let refresher: UpstreamRefresher
    let vault: UpstreamTokenVault
    let responder: TokenResponder
    let auditor: Auditor
    let clock: any ShimClock
    let resourcePolicy: ResourcePolicy
    /// `tokens.refresh_grace`: how long a rotated token still yields its successor.
    let graceSeconds: Int

    var grantType: GrantType { .refreshToken }

    /// What the client asked for beside the token (RFC 6749 §6, RFC 8707 §2.2).
    struct Presented {
        var token: String
        var hash: String
        var scope: ScopeSet?
        var resource: String?
    }

    func exchange(_ form: [String: String], client: RegisteredClient, logger: Logger) async throws -> TokenResponse {
        guard let token = form["refresh_token"] else { throw OAuthError.invalidRequest("refresh_token is missing") }
        let presented = Presented(
            token: token, hash: SecretToken.hash(token), scope: try form["scope"].map(ScopeSet.init(parsing:)),
            resource: form["resource"])
        guard let record = try await store.refreshToken(hash: presented.hash) else {
            throw OAuthError.invalidGrant("the refresh token is invalid")
        }
        // Rule 7 / RFC 6749 §6: "the refresh token was issued to the authenticated client".
        guard record.clientID == client.clientID else {
            logger.warning("refresh token presented by another client", metadata: ["client_id": "\(client.clientID)"])
            throw OAuthError.invalidGrant("the refresh token was issued to another client")
        }
        if record.rotatedAt != nil { return try await reuse(record, presented, logger: logger) }
        // One refresh of a grant at a time (in every replica on a shared
        // store): concurrent requests wait, then take the grace path with the
        // successor the first one made.
        return try await store.withRefreshLock(grantID: record.grantID) {
            guard let current = try await store.refreshToken(hash: presented.hash), current.rotatedAt == nil else {
                return try await reuse(record, presented, logger: logger)
            }
            return try await rotate(current, presented, client: client, logger: logger)
        }
    }

    /// The rotation itself, under the grant's refresh lock.
    private func rotate(
        _ current: RefreshTokenRecord, _ presented: Presented, client: RegisteredClient,
        logger: Logger
    ) async throws -> TokenResponse {
        let grant = try await usableGrant(current.grantID, presented)
        let upstream = try await refresher.refresh(grant, logger: logger)
        let now = clock.now()
        let successor = SecretToken.generate()
        let rotated = try await store.rotate(
            oldHash: presented.hash, rotatedAt: now,
            sealedSuccessor: try vault.seal(successor, for: .successor(ofRefreshTokenHash: presented.hash)),
            successorHash: SecretToken.hash(successor),
            successor: RefreshTokenRecord(grantID: grant.id, clientID: client.clientID, issuedAt: now), upstream: upstream.sealed)
        guard rotated else {
            if try await store.grant(id: grant.id).map({ $0.revokedAt != nil }) ?? true {
                // A revocation landed while the upstream refresh ran (another
                // replica, RFC 7009, reuse detection): it wins, and what the
                // IdP just issued is revoked there too.
                logger.notice("grant revoked during its refresh", metadata: ["grant": "\(grant.id.prefix(8))"])
                try await refresher.revoke(grantID: grant.id, upstream: upstream.sealed)
                throw OAuthError.invalidGrant("the grant was revoked")
            }
            return try await reuse(current, presented, logger: logger)
        }
        logger.info("refresh token rotated", metadata: ["client_id": "\(client.clientID)", "grant": "\(grant.id.prefix(8))"])
        await auditor.record(
            AuditEvent(
                at: now, kind: .refresh, clientID: client.clientID, clientName: client.clientName,
                subject: grant.subject, resource: grant.resource, scope: (presented.scope ?? grant.scope).text,
                detail: "grant " + grant.id.prefix(8)), logger: logger)
        return try await responder.respond(IssuanceTarget(grant: grant), upstream: upstream, refreshToken: successor, logger: logger)
    }

    /// A live grant for the request: not revoked, not expired, same resource,
    /// scope no wider than granted (RFC 6749 §6). A narrower scope is
    /// accepted, but the response reports the grant's scope: the access token
    /// is the IdP's, issued for the whole grant, and §5.1 makes `scope` the
    /// token's true scope.
    func usableGrant(_ id: String, _ presented: Presented) async throws -> Grant {
        guard let grant = try await store.grant(id: id), grant.revokedAt == nil, clock.now() < grant.expiresAt else {
            throw OAuthError.invalidGrant("the refresh token is no longer valid")
        }
        try ResourcePolicy.checkSameResource(requested: presented.resource, bound: grant.resource)
        if let scope = presented.scope {
            // The one scope rule: short names and base scopes (offline_access) read as at /authorize.
            _ = try resourcePolicy.refreshScope(scope, granted: grant.scope, resource: grant.resource)
        }
        return grant
    }
}
