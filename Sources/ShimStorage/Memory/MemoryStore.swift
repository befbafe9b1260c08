public import Foundation
public import ShimCore

/// In-process store for tests and `storage.url: memory:`. Everything is lost
/// on restart. Actor isolation makes each method atomic.
public actor MemoryStore: ShimStore {
    private var clients: [String: RegisteredClient] = [:]
    private var pendings: [String: (PendingConsent, Date)] = [:]
    private var transactions: [String: (UpstreamTransaction, Date)] = [:]
    private var consents: [String: ConsentRecord] = [:]
    private var codes: [String: (record: AuthorizationCodeRecord, used: Bool)] = [:]
    private var grants: [String: Grant] = [:]
    /// Ids revoked before their grant existed, with when.
    private var tombstones: [String: Date] = [:]
    private var audit: [AuditEvent] = []
    private var assertionIDs: [String: Date] = [:]
    var cimdClients: [String: CIMDClientRecord] = [:]
    /// MCP sessions opened through the gateway (GatewaySessionStore), by key.
    var gatewaySessions: [String: GatewaySessionRecord] = [:]
    private let refreshLocks = KeyedLock()
    /// Revocations committed through this store (`GrantLiveness`).
    public nonisolated let revocations = RevocationFeed()

    public nonisolated func withRefreshLock<T>(grantID: String, _ body: () async throws -> T) async throws -> T {
        try await refreshLocks.withLock(grantID, body)
    }
    private var refreshTokens: [String: RefreshTokenRecord] = [:]

    public init() {}

    public func insertClient(_ client: RegisteredClient) { clients[client.clientID] = client }
    public func registerClient(_ client: RegisteredClient, audit event: AuditEvent, maxClients: Int) -> Bool {
        guard clients.count < maxClients else { return false }
        clients[client.clientID] = client
        audit.append(event)
        return true
    }
    public func client(id: String) -> RegisteredClient? { clients[id] }
    public func configuredClients() -> [RegisteredClient] {
        clients.values.filter { $0.origin == .configured }.sorted { $0.clientID < $1.clientID }
    }
    public func markClientUsed(id: String, at: Date) {
        if clients[id]?.usedAt == nil { clients[id]?.usedAt = at }
    }
    public func countClients() -> Int { clients.count }
    public func purgeUnusedClients(createdBefore: Date) -> Int {
        let doomed = clients.values.filter { $0.usedAt == nil && $0.createdAt < createdBefore }.map(\.clientID)
        for id in doomed { clients[id] = nil }
        return doomed.count
    }

    public func savePending(_ pending: PendingConsent, id: String, expiresAt: Date) { pendings[id] = (pending, expiresAt) }
    public func pending(id: String, now: Date) -> PendingConsent? {
        guard let (record, expiry) = pendings[id], now < expiry else { return nil }
        return record
    }
    public func countPending() -> Int { pendings.count }
    public func consumePending(id: String, now: Date) -> PendingConsent? {
        guard let (record, expiry) = pendings.removeValue(forKey: id), now < expiry else { return nil }
        return record
    }

    public func saveTransaction(_ transaction: UpstreamTransaction, id: String, expiresAt: Date) {
        transactions[id] = (transaction, expiresAt)
    }
    public func consumeTransaction(id: String, now: Date) -> UpstreamTransaction? {
        guard let (record, expiry) = transactions.removeValue(forKey: id), now < expiry else { return nil }
        return record
    }

    public func saveConsent(_ consent: ConsentRecord) {
        consents[Self.consentKey(consent.browser, consent.clientID, consent.redirectURI)] = consent
    }
    public func consent(browser: String, clientID: String, redirectURI: String) -> ConsentRecord? {
        consents[Self.consentKey(browser, clientID, redirectURI)]
    }
    private static func consentKey(_ parts: String...) -> String { parts.map { "\($0.utf8.count):\($0)" }.joined() }

    public func saveCode(_ code: AuthorizationCodeRecord, hash: String) { codes[hash] = (code, false) }
    public func code(hash: String, now: Date) -> StoredCode? {
        guard let entry = codes[hash], now < entry.record.expiresAt else { return nil }
        return StoredCode(record: entry.record, used: entry.used)
    }
    public func redeemCode(hash: String, now: Date) -> CodeRedemption {
        guard let entry = codes[hash], now < entry.record.expiresAt else { return .invalid }
        if entry.used { return .replayed(entry.record) }
        codes[hash] = (entry.record, true)
        return .redeemed(entry.record)
    }

    public func createGrant(_ grant: Grant, firstRefreshToken: StoredRefreshToken?) -> Bool {
        guard grants[grant.id] == nil, tombstones[grant.id] == nil else { return false }
        grants[grant.id] = grant
        if let firstRefreshToken { refreshTokens[firstRefreshToken.hash] = firstRefreshToken.record }
        return true
    }
    public func grant(id: String) -> Grant? { grants[id] }
    public func refreshToken(hash: String) -> RefreshTokenRecord? { refreshTokens[hash] }
    public func rotate(
        oldHash: String, rotatedAt: Date, sealedSuccessor: String,
        successorHash: String, successor: RefreshTokenRecord, upstream: SealedUpstreamTokens
    ) -> Bool {
        guard var old = refreshTokens[oldHash], old.rotatedAt == nil,
            let grant = grants[successor.grantID], grant.revokedAt == nil
        else { return false }
        old.rotatedAt = rotatedAt
        old.sealedSuccessor = sealedSuccessor
        refreshTokens[oldHash] = old
        refreshTokens[successorHash] = successor
        grants[successor.grantID]?.upstream = upstream
        return true
    }
    public func revokeGrant(id: String, at: Date) {
        if grants[id] == nil, tombstones[id] == nil { tombstones[id] = at }
        if grants[id]?.revokedAt == nil { grants[id]?.revokedAt = at }
        revocations.announce([id])
    }

    public func replaceUpstream(grantID: String, upstream: SealedUpstreamTokens) -> Bool {
        guard grants[grantID]?.revokedAt == nil, grants[grantID] != nil else { return false }
        grants[grantID]?.upstream = upstream
        return true
    }

    public func recordAssertionID(_ key: String, expiresAt: Date, now: Date) -> Bool {
        if let seen = assertionIDs[key], seen > now { return false }
        assertionIDs[key] = expiresAt
        return true
    }
    public func purgeExpiredAssertionIDs(now: Date) {
        assertionIDs = assertionIDs.filter { $0.value > now }
    }

    public func grantStatus(id: String) -> GrantStatus? {
        if let grant = grants[id] { return GrantStatus(clientID: grant.clientID, revoked: grant.revokedAt != nil, expiresAt: grant.expiresAt) }
        return tombstones[id] != nil ? GrantStatus(clientID: "", revoked: true) : nil
    }

    public func ping() {}

    public func purgeExpired(now: Date) -> PurgeCounts {
        var counts = PurgeCounts()
        let before = pendings.count + transactions.count + codes.count
        pendings = pendings.filter { now < $0.value.1 }
        transactions = transactions.filter { now < $0.value.1 }
        codes = codes.filter { now < $0.value.record.expiresAt }
        counts.shortLived = before - pendings.count - transactions.count - codes.count
        let consentsBefore = consents.count
        consents = consents.filter { now < $0.value.expiresAt }
        counts.consents = consentsBefore - consents.count
        let revokedBefore = now.addingTimeInterval(-revokedRetention)
        let doomed = Set(grants.values.filter { $0.expiresAt <= now || ($0.revokedAt.map { $0 <= revokedBefore } ?? false) }.map(\.id))
        for id in doomed { grants[id] = nil }
        let oldTombstones = tombstones.filter { $0.value <= revokedBefore }.keys
        for id in oldTombstones { tombstones[id] = nil }
        counts.grants = doomed.count + oldTombstones.count
        let tokensBefore = refreshTokens.count
        refreshTokens = refreshTokens.filter { !doomed.contains($0.value.grantID) }
        counts.refreshTokens = tokensBefore - refreshTokens.count
        return counts
    }

    public func purgeAudit(before: Date) -> Int {
        let count = audit.count
        audit.removeAll { $0.at < before }
        return count - audit.count
    }

    public func appendAudit(_ event: AuditEvent) { audit.append(event) }
    public func auditEvents(since: Date?, limit: Int) -> [AuditEvent] {
        Array(audit.filter { since == nil || $0.at >= since! }.prefix(limit))
    }

    public func listClients(limit: Int) -> [RegisteredClient] {
        Array(clients.values.sorted { $0.createdAt > $1.createdAt }.prefix(limit))
    }
    public func deleteClient(id: String) -> Bool { clients.removeValue(forKey: id) != nil }
    public func listGrants(clientID: String?, limit: Int) -> [Grant] {
        Array(grants.values.filter { clientID == nil || $0.clientID == clientID }.sorted { $0.createdAt > $1.createdAt }.prefix(limit))
    }
    public func revokeGrants(clientID: String, at: Date) -> Int {
        let ids = grants.values.filter { $0.clientID == clientID && $0.revokedAt == nil }.map(\.id)
        for id in ids { grants[id]?.revokedAt = at }
        revocations.announce(ids)
        return ids.count
    }
}
