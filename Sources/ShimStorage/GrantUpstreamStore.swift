public import Foundation
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

/// What the issued-token checks need of a grant, read without decoding the
/// whole record (the gateway asks on every request).
public struct GrantStatus: Sendable, Equatable {
    public var clientID: String
    /// Revoked, or a tombstone left by a revocation before creation.
    public var revoked: Bool
    /// When the grant ends (nil for a tombstone): a status kept in memory
    /// (`GrantLiveness`) is not trusted past it.
    public var expiresAt: Date?

    public init(clientID: String, revoked: Bool, expiresAt: Date? = nil) {
        self.clientID = clientID
        self.revoked = revoked
        self.expiresAt = expiresAt
    }
}

/// The revocation state of a grant, for /introspect and the gateway.
public protocol GrantStatusStore: Sendable {
    /// nil for a grant id the store has never seen.
    func grantStatus(id: String) async throws -> GrantStatus?
}

/// Single use of assertions (rule 12; RFC 7523 §3 item 7: "The
/// authorization server MAY ensure that JWTs are not replayed by maintaining
/// the set of used "jti" values for the length of time for which the JWT
/// would be considered valid"), across every replica sharing the store.
public protocol AssertionReplayStore: Sendable {
    /// Records `key` (a hash of issuer and `jti`) until `expiresAt`. True
    /// the first time; false while an earlier record of it has not expired.
    /// Exactly one of concurrent callers with one key gets true.
    func recordAssertionID(_ key: String, expiresAt: Date, now: Date) async throws -> Bool
    /// Forgets records past their expiry (housekeeping).
    func purgeExpiredAssertionIDs(now: Date) async throws
}
