import Foundation
public import Logging
import ShimCore
import ShimStorage
import ShimUpstream

extension ShimServices {
    /// The user's upstream access token for a grant, for the gateway to
    /// inject (`resources[i].upstream_token_header`). When it expires within
    /// `injectionRefreshMargin` it is refreshed at the IdP first, through the
    /// token endpoint's own machinery (`RefreshFamily.freshUpstream`, under
    /// the grant's refresh lock, so a gateway request and a client's refresh
    /// never refresh one grant twice), and stored with `replaceUpstream`.
    /// The shim's refresh token is not rotated. Throws `invalid_grant` for a
    /// revoked grant or one the IdP no longer refreshes.
    public func upstreamAccessToken(grantID: String, logger: Logger) async throws -> String? {
        guard let grant = try await store.grant(id: grantID), grant.revokedAt == nil else {
            throw OAuthError.invalidGrant("the grant is revoked")
        }
        // An ID-JAG grant (EMA) has no upstream token to inject.
        if grant.upstream.accessToken.isEmpty { return nil }
        guard needsUpstreamRefresh(grant.upstream) else {
            return try TokenIssuance.openAccessToken(grant.upstream, grantID: grantID, services: self)
        }
        return try await store.withRefreshLock(grantID: grantID) {
            guard let current = try await store.grant(id: grantID), current.revokedAt == nil else {
                throw OAuthError.invalidGrant("the grant is revoked")
            }
            // Another request may have refreshed while this one waited for the lock.
            guard needsUpstreamRefresh(current.upstream) else {
                return try TokenIssuance.openAccessToken(current.upstream, grantID: grantID, services: self)
            }
            let upstream = try await RefreshFamily.freshUpstream(current, services: self, logger: logger)
            guard try await store.replaceUpstream(grantID: grantID, upstream: upstream) else {
                throw OAuthError.invalidGrant("the grant is revoked")
            }
            return try TokenIssuance.openAccessToken(upstream, grantID: grantID, services: self)
        }
    }

    /// An upstream access token without a known expiry is used as it is.
    func needsUpstreamRefresh(_ upstream: SealedUpstreamTokens) -> Bool {
        guard let expiry = upstream.accessTokenExpiresAt else { return false }
        return expiry.timeIntervalSince(now) <= Self.injectionRefreshMargin
    }

    /// An injected token has at least this long to live when the MCP server
    /// gets it; smaller than `upstreamRefreshMargin` so that an IdP issuing
    /// one-minute tokens is not asked for a refresh on every MCP request.
    static let injectionRefreshMargin: TimeInterval = 30
}
