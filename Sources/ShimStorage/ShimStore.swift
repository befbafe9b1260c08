public import Foundation
public import ShimCore

/// Registered clients (RFC 7591). Registrations are permanent until revoked.
public protocol ClientStore: Sendable {
    func insertClient(_ client: RegisteredClient) async throws
    /// Stores a new registration and its audit event in one commit. Returns
    /// false, storing nothing, when `maxClients` registrations exist already.
    /// The count is kept by the store (O(1), never `COUNT(*)` per request);
    /// on PostgreSQL, registrations racing on several replicas may overshoot
    /// the cap by at most their number.
    func registerClient(_ client: RegisteredClient, audit: AuditEvent, maxClients: Int) async throws -> Bool
    func client(id: String) async throws -> RegisteredClient?
    /// Every client installed from configuration (`origin` configured), by
    /// id; at start, those `ema.clients` no longer lists are withdrawn.
    func configuredClients() async throws -> [RegisteredClient]
    /// Records the first token issuance; later calls change nothing.
    func markClientUsed(id: String, at: Date) async throws
    /// The number of stored registrations, in O(1).
    func countClients() async throws -> Int
    /// Deletes registrations never used and created before `createdBefore`.
    @discardableResult
    func purgeUnusedClients(createdBefore: Date) async throws -> Int
}

/// Short-lived, single-use records: consent pages waiting for a decision and
/// upstream transactions waiting for the callback (rule 5).
public protocol TransactionStore: Sendable {
    func savePending(_ pending: PendingConsent, id: String, expiresAt: Date) async throws
    /// Reads without consuming: the consent page may be rendered again.
    func pending(id: String, now: Date) async throws -> PendingConsent?
    /// Returns the record and deletes it in one step; a second `consume`
    /// returns nil, and so does an expired record.
    func consumePending(id: String, now: Date) async throws -> PendingConsent?

    /// Pending consents stored now (expired ones until purged), in O(1):
    /// `authorization.max_pending` caps them.
    func countPending() async throws -> Int

    func saveTransaction(_ transaction: UpstreamTransaction, id: String, expiresAt: Date) async throws
    /// Same single-use semantics as `consumePending`.
    func consumeTransaction(id: String, now: Date) async throws -> UpstreamTransaction?
}

/// Consents remembered in `remember` mode, per (browser, client_id, redirect_uri).
public protocol ConsentStore: Sendable {
    func saveConsent(_ consent: ConsentRecord) async throws
    func consent(browser: String, clientID: String, redirectURI: String) async throws -> ConsentRecord?
}

/// What redeeming an authorization code found (rule 6).
public enum CodeRedemption: Sendable, Equatable {
    /// First use: the record, now marked used.
    case redeemed(AuthorizationCodeRecord)
    /// The code was already used: the caller revokes what it produced.
    case replayed(AuthorizationCodeRecord)
    /// Unknown or expired.
    case invalid
}

/// A stored authorization code, read without using it up.
public struct StoredCode: Sendable, Equatable {
    public let record: AuthorizationCodeRecord
    /// Whether it was redeemed already.
    public let used: Bool

    public init(record: AuthorizationCodeRecord, used: Bool) {
        self.record = record
        self.used = used
    }
}

/// Authorization codes, keyed by `SecretToken.hash(code)`.
public protocol AuthorizationCodeStore: Sendable {
    func saveCode(_ code: AuthorizationCodeRecord, hash: String) async throws
    /// The code as stored, used or not, changing nothing; nil when unknown
    /// or expired. The token endpoint checks the client, redirect URI and
    /// PKCE against it before `redeemCode`, so a request that fails them
    /// cannot use a code up.
    func code(hash: String, now: Date) async throws -> StoredCode?
    /// Marks the code used atomically; exactly one caller ever sees
    /// `.redeemed` for a code. A used code is kept until it expires so that a
    /// replay is recognised.
    func redeemCode(hash: String, now: Date) async throws -> CodeRedemption
}

/// Grants (token families) and their refresh tokens, keyed by hash (rule 7).
public protocol GrantStore: Sendable {
    /// Creates the grant and its first refresh token (when it has one)
    /// together. Returns false, creating nothing, when a grant with this id
    /// exists or was revoked before it was created (a replayed code wins the
    /// race).
    func createGrant(_ grant: Grant, firstRefreshToken: StoredRefreshToken?) async throws -> Bool
    func grant(id: String) async throws -> Grant?
    func refreshToken(hash: String) async throws -> RefreshTokenRecord?
    /// In one step: if the token `oldHash` is still unrotated, marks it rotated
    /// (keeping `sealedSuccessor` for the grace window), inserts the successor
    /// and stores the grant's new upstream tokens. Returns false, changing
    /// nothing, when the old token was already rotated or its grant is
    /// revoked (checked in the same step, so a revocation on another replica
    /// during the upstream refresh wins).
    func rotate(
        oldHash: String, rotatedAt: Date, sealedSuccessor: String,
        successorHash: String, successor: RefreshTokenRecord, upstream: SealedUpstreamTokens
    ) async throws -> Bool
    /// Runs `body` while no other refresh of this grant runs: in this
    /// process, and for a store shared by replicas, in any replica. Only
    /// one upstream refresh of a grant is ever in flight.
    func withRefreshLock<T>(grantID: String, _ body: () async throws -> T) async throws -> T

    /// Revokes the grant; every refresh token of the family stops working.
    /// Revoking an id not yet created leaves a tombstone that makes a later
    /// `createGrant` with that id fail.
    func revokeGrant(id: String, at: Date) async throws
}

/// A refresh token to store: its hash (the key) and its record.
public struct StoredRefreshToken: Sendable, Equatable {
    public var hash: String
    public var record: RefreshTokenRecord

    public init(hash: String, record: RefreshTokenRecord) {
        self.hash = hash
        self.record = record
    }
}

extension GrantStore {
    /// A grant with its first refresh token.
    public func createGrant(_ grant: Grant, refreshTokenHash: String, refreshToken: RefreshTokenRecord) async throws -> Bool {
        try await createGrant(grant, firstRefreshToken: StoredRefreshToken(hash: refreshTokenHash, record: refreshToken))
    }
}

/// Readiness and housekeeping.
public protocol StoreHealth: Sendable {
    /// Succeeds when the store answers.
    func ping() async throws
    /// Deletes what can never be used again (bounded stored rows): expired
    /// pending consents, transactions, codes and consents; grants past their
    /// expiry with their refresh tokens; revoked grants and tombstones once
    /// `revokedRetention` has passed (longer than any code that could still
    /// try to create the grant lives). A family's rotated refresh tokens stay
    /// while the family lives: presenting one again is how a stolen token is
    /// detected (rule 7). Works in bounded batches.
    @discardableResult
    func purgeExpired(now: Date) async throws -> PurgeCounts
    /// Deletes audit events older than `before` (`audit.retention`); returns how many.
    @discardableResult
    func purgeAudit(before: Date) async throws -> Int
}

/// The audit trail: append-only, listed oldest first.
public protocol AuditStore: Sendable {
    func appendAudit(_ event: AuditEvent) async throws
    func auditEvents(since: Date?, limit: Int) async throws -> [AuditEvent]
}

/// What the admin commands need beyond the flow.
public protocol AdminStore: Sendable {
    /// Registered clients, newest first.
    func listClients(limit: Int) async throws -> [RegisteredClient]
    /// Deletes a registration; returns false when there was none.
    func deleteClient(id: String) async throws -> Bool
    /// Grants, newest first, optionally of one client.
    func listGrants(clientID: String?, limit: Int) async throws -> [Grant]
    /// Revokes every live grant of a client; returns how many.
    func revokeGrants(clientID: String, at: Date) async throws -> Int
}

/// Clients known by their Client ID Metadata Document (no registration row):
/// one record per document URL, for the admin commands and the audit trail.
public protocol CIMDClientStore: Sendable {
    /// Inserts or replaces the record for `record.url`, keeping the earlier
    /// `firstSeen` of an existing one, in one step. Returns the record that
    /// was there before (nil for a new client).
    @discardableResult
    func recordCIMDClient(_ record: CIMDClientRecord) async throws -> CIMDClientRecord?
    func cimdClient(url: String) async throws -> CIMDClientRecord?
    /// Most recently fetched first.
    func listCIMDClients(limit: Int) async throws -> [CIMDClientRecord]
    /// Returns false when there was no record.
    func deleteCIMDClient(url: String) async throws -> Bool
    /// Deletes records not fetched since `lastFetchedBefore`; returns how many.
    @discardableResult
    func purgeCIMDClients(lastFetchedBefore: Date) async throws -> Int
}

/// Everything the server needs, in one value.
public typealias ShimStore = ClientStore & TransactionStore & ConsentStore & AuthorizationCodeStore & GrantStore & StoreHealth
    & AuditStore & AdminStore & CIMDClientStore & GrantUpstreamStore & GrantStatusStore & AssertionReplayStore
    & GatewaySessionStore

/// Fixed-window event counters shared by every replica (rate limits per
/// client address): a store that several processes use (PostgreSQL) keeps the per-address
/// limits, so N replicas allow what one would, not N times as much. Stores
/// that one process owns count in memory instead (see `FixedWindowLimiter`).
public protocol SharedRateLimitStore: Sendable {
    /// Counts one event under `key` in the window of `windowSeconds` that
    /// holds `now` (windows are aligned to multiples of their length, so all
    /// replicas mean the same one); returns the events in that window so
    /// far, this one included.
    func countEvent(key: String, windowSeconds: Int, now: Date) async throws -> Int
}

/// What one `purgeExpired` deleted, for the housekeeping log.
public struct PurgeCounts: Sendable, Equatable {
    public var shortLived = 0
    public var consents = 0
    public var grants = 0
    public var refreshTokens = 0

    public init(shortLived: Int = 0, consents: Int = 0, grants: Int = 0, refreshTokens: Int = 0) {
        self.shortLived = shortLived
        self.consents = consents
        self.grants = grants
        self.refreshTokens = refreshTokens
    }

    public var total: Int { shortLived + consents + grants + refreshTokens }
}

/// How long a revoked grant or a tombstone is kept: an hour, far longer
/// than the 5 minutes an authorization code (the only thing that could
/// still try to create that grant) lives.
public let revokedRetention: TimeInterval = 3600
