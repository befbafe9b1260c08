import Foundation
public import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// The one path by which a grant's upstream tokens are refreshed at the IdP
/// and revoked there: used by the refresh-token grant, by the revocation of
/// a grant (RFC 7009, reuse detection, a replayed code), and by the gateway
/// when it injects the user's upstream access token.
public struct UpstreamRefresher: Sendable {
    let store: any GrantStore & GrantUpstreamStore
    let upstream: any UpstreamIdP
    let vault: UpstreamTokenVault
    let clock: any ShimClock

    /// The grant's upstream tokens, refreshed at the IdP (threat T26): a
    /// client refreshes because its access token was rejected (revoked at
    /// the IdP, clock skew, a 401 from the MCP server), so handing back the
    /// same token, however far from expiry, would make it loop. The caller
    /// holds the grant's refresh lock, so one upstream call is in flight per
    /// grant. An IdP that refuses the refresh (`invalid_grant`) ends the
    /// grant: the user must sign in again.
    func refresh(_ grant: Grant, logger: Logger) async throws -> UpstreamTokens {
        guard let sealed = grant.upstream, let refreshToken = try vault.refreshToken(sealed, grantID: grant.id) else {
            throw OAuthError.invalidGrant("the grant cannot be refreshed; sign in again")
        }
        do {
            let tokens = try await upstream.refresh(refreshToken, scope: grant.upstreamScope)
            logger.info("upstream refreshed", metadata: ["grant": "\(grant.id.prefix(8))"])
            return try vault.seal(tokens, grantID: grant.id, now: clock.now(), keeping: sealed.refreshToken)
        } catch {
            if error.code == .invalidGrant { try await store.revokeGrant(id: grant.id, at: clock.now()) }
            throw error
        }
    }

    /// Revokes a grant here and, best effort, its refresh token at the IdP.
    func revoke(grantID: String, upstream sealed: SealedUpstreamTokens?) async throws {
        try await store.revokeGrant(id: grantID, at: clock.now())
        if let sealed, let token = try? vault.refreshToken(sealed, grantID: grantID) {
            await upstream.revoke(refreshToken: token)
        }
    }

    /// The user's upstream access token for a grant, for the gateway to
    /// inject (`resources[i].upstream_token_header`); nil for a grant with
    /// no upstream tokens (one made from an ID-JAG). When it expires within
    /// `injectionRefreshMargin` it is refreshed first, under the grant's
    /// refresh lock (so a gateway request and a client's refresh never
    /// refresh one grant twice), and stored with `replaceUpstream`; the
    /// shim's refresh token is not rotated. Throws `invalid_grant` for a
    /// revoked grant or one the IdP no longer refreshes.
    public func accessToken(grantID: String, logger: Logger) async throws -> String? {
        guard let grant = try await store.grant(id: grantID), grant.revokedAt == nil else {
            throw OAuthError.invalidGrant("the grant is revoked")
        }
        guard let sealed = grant.upstream else { return nil }
        guard needsRefresh(sealed) else { return try vault.accessToken(UpstreamTokens(stored: sealed), grantID: grantID) }
        return try await store.withRefreshLock(grantID: grantID) {
            guard let current = try await store.grant(id: grantID), current.revokedAt == nil, let stored = current.upstream else {
                throw OAuthError.invalidGrant("the grant is revoked")
            }
            // Another request may have refreshed while this one waited for the lock.
            guard needsRefresh(stored) else { return try vault.accessToken(UpstreamTokens(stored: stored), grantID: grantID) }
            let fresh = try await refresh(current, logger: logger)
            guard try await store.replaceUpstream(grantID: grantID, upstream: fresh.sealed) else {
                throw OAuthError.invalidGrant("the grant is revoked")
            }
            return try vault.accessToken(fresh, grantID: grantID)
        }
    }

    /// An upstream access token without a known expiry is used as it is.
    func needsRefresh(_ sealed: SealedUpstreamTokens) -> Bool {
        guard let expiry = sealed.accessTokenExpiresAt else { return false }
        return expiry.timeIntervalSince(clock.now()) <= Self.injectionRefreshMargin
    }

    /// An injected token has at least this long to live when the MCP server
    /// gets it; short, so that an IdP issuing one-minute tokens is not asked
    /// for a refresh on every MCP request.
    static let injectionRefreshMargin: TimeInterval = 30
}
