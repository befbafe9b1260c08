public import ShimCore

/// Replacing a grant's upstream tokens without rotating its refresh token:
/// the gateway refreshes the user's upstream access token behind the
/// client (`resources[i].upstream_token_header`). Callers hold
/// `withRefreshLock(grantID:)` around the upstream refresh and this write,
/// as the token endpoint does around `rotate`.
public protocol GrantUpstreamStore: Sendable {
    /// Stores `upstream` as the grant's upstream tokens; a revoked or
    /// unknown grant is left unchanged (returns false).
    func replaceUpstream(grantID: String, upstream: SealedUpstreamTokens) async throws -> Bool
}
