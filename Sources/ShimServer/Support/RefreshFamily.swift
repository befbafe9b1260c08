import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// The pieces of refresh handling that touch a whole grant (rule 7).
enum RefreshFamily {
    /// A live grant for the request: not revoked, not expired, same resource,
    /// scope no wider than granted (RFC 6749 §6). A narrower scope is
    /// accepted, but the response reports the grant's scope: the access token
    /// is the IdP's, issued for the whole grant, and §5.1 makes `scope` the
    /// token's true scope.
    static func usableGrant(_ id: String, requestedScope: ScopeSet?, resource: String?, services: ShimServices) async throws -> Grant {
        guard let grant = try await services.store.grant(id: id), grant.revokedAt == nil, services.now < grant.expiresAt else {
            throw OAuthError.invalidGrant("the refresh token is no longer valid")
        }
        try ResourcePolicy.checkSameResource(requested: resource, bound: grant.resource)
        if let requestedScope {
            // The one scope rule: short names and base scopes (offline_access) read as at /authorize.
            _ = try services.resourcePolicy.refreshScope(requestedScope, granted: grant.scope, resource: grant.resource)
        }
        return grant
    }

    /// A rotated token presented again. Within the grace window the same
    /// successor is returned (honest clients refresh concurrently from more
    /// than one place); after it, the whole family is revoked (OAuth 2.1 §4.3.1,
    /// RFC 9700 §4.14.2: reuse of an invalidated refresh token).
    static func reuse(_ record: RefreshTokenRecord, token: String, requestedScope: ScopeSet?, resource: String?,
                      services: ShimServices, context: ShimRequestContext) async throws -> [String: Any] {
        let now = services.now
        let hash = SecretToken.hash(token)
        let latest = try await services.store.refreshToken(hash: hash) ?? record
        if let rotatedAt = latest.rotatedAt, let sealed = latest.sealedSuccessor,
           now.timeIntervalSince(rotatedAt) <= TimeInterval(services.config.refreshGraceSeconds) {
            let grant = try await usableGrant(latest.grantID, requestedScope: requestedScope, resource: resource, services: services)
            let successor: String
            do { successor = try services.sealer.open(sealed, context: "successor:" + hash) } catch {
                throw OAuthError(.serverError, "tokens cannot be read", detail: "open successor failed")
            }
            context.logger.info("refresh within grace window; same successor", metadata: ["grant": "\(grant.id.prefix(8))"])
            return try await TokenIssuance.tokenResponse(IssuanceTarget(grant: grant), upstream: grant.upstream, refreshToken: successor,
                                                         services: services, logger: context.logger)
        }
        context.logger.warning("refresh token reuse detected; revoking the family",
                               metadata: ["client_id": "\(latest.clientID)", "grant": "\(latest.grantID.prefix(8))",
                                          "token": "\(SecretToken.logTag(token))"])
        let grant = try await services.store.grant(id: latest.grantID)
        try await revoke(grantID: latest.grantID, upstream: grant?.upstream, services: services)
        await Audit.record(AuditEvent(at: now, kind: .reuseDetected, clientID: latest.clientID, subject: grant?.subject,
                                      resource: grant?.resource, detail: "grant " + latest.grantID.prefix(8) + " revoked"),
                           services: services, logger: context.logger)
        throw OAuthError.invalidGrant("the refresh token was already used")
    }

    /// The grant's upstream tokens, refreshed at the IdP on every rotation
    /// (threat T26): a client refreshes because its access token was rejected
    /// (revoked at the IdP, clock skew, a 401 from the MCP server), so handing
    /// back the same token, however far from expiry, would make it loop. One
    /// upstream call per rotation: the caller holds the grant's refresh lock,
    /// and requests inside the grace window get this rotation's result
    /// (`reuse`). An IdP that refuses the refresh (`invalid_grant`) ends the
    /// grant: the user must sign in again.
    static func freshUpstream(_ grant: Grant, services: ShimServices, logger: Logger) async throws -> SealedUpstreamTokens {
        let now = services.now
        guard let upstreamRefresh = try TokenIssuance.openRefreshToken(grant.upstream, grantID: grant.id, services: services) else {
            throw OAuthError.invalidGrant("the grant cannot be refreshed; sign in again")
        }
        do {
            let tokens = try await services.upstream.refresh(upstreamRefresh, scope: grant.upstreamScope)
            logger.info("upstream refreshed", metadata: ["grant": "\(grant.id.prefix(8))"])
            // IdPs that rotate (Entra, django-oauth-toolkit) return a new refresh
            // token; others (Google, glewlwyd, LemonLDAP::NG) keep theirs: keep the old one.
            return try TokenIssuance.seal(tokens, grantID: grant.id, now: now, services: services,
                                          keepingRefreshToken: grant.upstream.refreshToken)
        } catch {
            if error.code == .invalidGrant { try await services.store.revokeGrant(id: grant.id, at: now) }
            throw error
        }
    }

    /// Revokes a grant here and, best effort, its refresh token at the IdP.
    static func revoke(grantID: String, upstream: SealedUpstreamTokens?, services: ShimServices) async throws {
        try await services.store.revokeGrant(id: grantID, at: services.now)
        if let upstream, let token = try? TokenIssuance.openRefreshToken(upstream, grantID: grantID, services: services) {
            await services.upstream.revoke(refreshToken: token)
        }
    }
}
