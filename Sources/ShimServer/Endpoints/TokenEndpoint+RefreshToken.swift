import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

extension TokenEndpoint {
    /// RFC 6749 §6 with rule 7: rotation on every use, binding to the client,
    /// reuse detection with a grace window, upstream refresh behind it.
    static func refreshToken(_ form: [String: String], client: RegisteredClient, services: ShimServices,
                             context: ShimRequestContext) async throws -> [String: Any] {
        guard let token = form["refresh_token"] else { throw OAuthError.invalidRequest("refresh_token is missing") }
        let hash = SecretToken.hash(token)
        guard let record = try await services.store.refreshToken(hash: hash) else {
            throw OAuthError.invalidGrant("the refresh token is invalid")
        }
        // Rule 7 / RFC 6749 §6: "the refresh token was issued to the authenticated client".
        guard record.clientID == client.clientID else {
            context.logger.warning("refresh token presented by another client", metadata: ["client_id": "\(client.clientID)"])
            throw OAuthError.invalidGrant("the refresh token was issued to another client")
        }
        let requestedScope = try form["scope"].map(ScopeSet.init(parsing:))
        let resource = form["resource"]
        let now = services.now
        if record.rotatedAt != nil {
            return try await RefreshFamily.reuse(record, token: token, requestedScope: requestedScope, resource: resource,
                                                 services: services, context: context)
        }
        // One refresh of a grant at a time in this process: concurrent requests
        // wait, then take the grace path with the successor the first one made.
        return try await services.store.withRefreshLock(grantID: record.grantID) {
            guard let current = try await services.store.refreshToken(hash: hash), current.rotatedAt == nil else {
                return try await RefreshFamily.reuse(record, token: token, requestedScope: requestedScope, resource: resource,
                                                     services: services, context: context)
            }
            let grant = try await RefreshFamily.usableGrant(current.grantID, requestedScope: requestedScope, resource: resource,
                                                            services: services)
            let upstream = try await RefreshFamily.freshUpstream(grant, services: services, logger: context.logger)
            let successor = SecretToken.generate()
            let sealedSuccessor: String
            do { sealedSuccessor = try services.sealer.seal(successor, context: "successor:" + hash) } catch {
                throw OAuthError(.serverError, "tokens could not be stored", detail: "seal failed")
            }
            let rotated = try await services.store.rotate(
                oldHash: hash, rotatedAt: now, sealedSuccessor: sealedSuccessor, successorHash: SecretToken.hash(successor),
                successor: RefreshTokenRecord(grantID: grant.id, clientID: client.clientID, issuedAt: now), upstream: upstream)
            guard rotated else {
                if try await services.store.grant(id: grant.id).map({ $0.revokedAt != nil }) ?? true {
                    // A revocation landed while the upstream refresh ran (another
                    // replica, RFC 7009, reuse detection): it wins, and what the
                    // IdP just issued is revoked there too.
                    context.logger.notice("grant revoked during its refresh", metadata: ["grant": "\(grant.id.prefix(8))"])
                    try await RefreshFamily.revoke(grantID: grant.id, upstream: upstream, services: services)
                    throw OAuthError.invalidGrant("the grant was revoked")
                }
                return try await RefreshFamily.reuse(record, token: token, requestedScope: requestedScope, resource: resource,
                                                     services: services, context: context)
            }
            context.logger.info("refresh token rotated", metadata: ["client_id": "\(client.clientID)", "grant": "\(grant.id.prefix(8))"])
            await Audit.record(AuditEvent(at: now, kind: .refresh, clientID: client.clientID, clientName: client.clientName,
                                          subject: grant.subject, resource: grant.resource, scope: (requestedScope ?? grant.scope).text,
                                          detail: "grant " + grant.id.prefix(8)), services: services, logger: context.logger)
            return try await TokenIssuance.tokenResponse(IssuanceTarget(grant: grant), upstream: upstream, refreshToken: successor,
                                                         services: services, logger: context.logger)
        }
    }
}
