import Foundation
import Logging
import ShimCore
import ShimStorage

extension RefreshTokenGrant {
    /// A rotated token presented again. Within the grace window the same
    /// successor is returned (honest clients refresh concurrently from more
    /// than one place); after it, the whole family is revoked (OAuth 2.1 §4.3.1,
    /// RFC 9700 §4.14.2: reuse of an invalidated refresh token).
    func reuse(_ record: RefreshTokenRecord, _ presented: Presented, logger: Logger) async throws -> TokenResponse {
        let now = clock.now()
        let latest = try await store.refreshToken(hash: presented.hash) ?? record
        if let rotatedAt = latest.rotatedAt, let sealed = latest.sealedSuccessor, now.timeIntervalSince(rotatedAt) <= TimeInterval(graceSeconds) {
            let grant = try await usableGrant(latest.grantID, presented)
            let successor = try vault.open(sealed, for: .successor(ofRefreshTokenHash: presented.hash))
            logger.info("refresh within grace window; same successor", metadata: ["grant": "\(grant.id.prefix(8))"])
            return try await responder.respond(
                IssuanceTarget(grant: grant), upstream: grant.upstream.map(UpstreamTokens.init(stored:)),
                refreshToken: successor, logger: logger)
        }
        logger.warning(
            "refresh token reuse detected; revoking the family",
            metadata: [
                "client_id": "\(latest.clientID)", "grant": "\(latest.grantID.prefix(8))",
                "token": "\(SecretToken.logTag(presented.token))",
            ])
        let grant = try await store.grant(id: latest.grantID)
        try await refresher.revoke(grantID: latest.grantID, upstream: grant?.upstream)
        await auditor.record(
            AuditEvent(
                at: now, kind: .reuseDetected, clientID: latest.clientID, subject: grant?.subject,
                resource: grant?.resource, detail: "grant " + latest.grantID.prefix(8) + " revoked"),
            logger: logger)
        throw OAuthError.invalidGrant("the refresh token was already used")
    }
}
