public import Foundation
import PostgresNIO
public import ShimCore

extension PostgresStore: ShimStore {
    public func insertClient(_ client: RegisteredClient) async throws {
        let body = try Self.encode(client)
        let at = client.createdAt.timeIntervalSince1970
        _ = try await rows(
            "INSERT INTO clients (id, body, created_at, origin) VALUES (\(client.clientID), \(body), \(at), \(client.origin.rawValue))")
    }

    /// One transaction: the client only while the shard sum is under the
    /// cap, then its audit row.
    public func registerClient(_ client: RegisteredClient, audit: AuditEvent, maxClients: Int) async throws -> Bool {
        let body = try Self.encode(client)
        let at = client.createdAt.timeIntervalSince1970
        let cap = Int64(maxClients)
        let auditBody = try Self.encode(audit)
        return try await self.transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO clients (id, body, created_at, origin) SELECT \(client.clientID), \(body), \(at), \(client.origin.rawValue)
                WHERE (SELECT coalesce(sum(value), 0) FROM row_counts WHERE name = 'clients') < \(cap) RETURNING id
                """, logger: logger
            ).collect()
            guard !inserted.isEmpty else { return false }
            try await connection.query(
                """
                INSERT INTO audit (at, kind, client_id, body)
                VALUES (\(audit.at.timeIntervalSince1970), \(audit.kind.rawValue), \(audit.clientID), \(auditBody))
                """, logger: logger)
            return true
        }
    }

    public func client(id: String) async throws -> RegisteredClient? {
        guard let row = try await rows("SELECT body, used_at FROM clients WHERE id = \(id)").first else { return nil }
        let (body, used) = try row.decode((String, Double?).self)
        var client = try Self.decode(RegisteredClient.self, body)
        if let used { client?.usedAt = Date(timeIntervalSince1970: used) }
        return client
    }

    public func configuredClients() async throws -> [RegisteredClient] {
        try await rows("SELECT body, used_at FROM clients WHERE origin = 'configured' ORDER BY id").compactMap { row in
            let (body, used) = try row.decode((String, Double?).self)
            var client = try Self.decode(RegisteredClient.self, body)
            if let used { client?.usedAt = Date(timeIntervalSince1970: used) }
            return client
        }
    }

    public func markClientUsed(id: String, at: Date) async throws {
        _ = try await rows("UPDATE clients SET used_at = \(at.timeIntervalSince1970) WHERE id = \(id) AND used_at IS NULL")
    }

    public func countClients() async throws -> Int {
        try await count("clients")
    }

    public func purgeUnusedClients(createdBefore: Date) async throws -> Int {
        try await rows("DELETE FROM clients WHERE used_at IS NULL AND created_at < \(createdBefore.timeIntervalSince1970) RETURNING id").count
    }

    public func savePending(_ pending: PendingConsent, id: String, expiresAt: Date) async throws {
        let body = try Self.encode(pending)
        let at = expiresAt.timeIntervalSince1970
        _ = try await rows("INSERT INTO pending_consents (id, body, expires_at) VALUES (\(id), \(body), \(at))")
    }

    public func pending(id: String, now: Date) async throws -> PendingConsent? {
        try Self.body(
            PendingConsent.self,
            try await rows(
                "SELECT body FROM pending_consents WHERE id = \(id) AND expires_at > \(now.timeIntervalSince1970)"
            ).first)
    }

    public func consumePending(id: String, now: Date) async throws -> PendingConsent? {
        try Self.body(
            PendingConsent.self,
            try await rows(
                "DELETE FROM pending_consents WHERE id = \(id) AND expires_at > \(now.timeIntervalSince1970) RETURNING body"
            ).first)
    }

    public func saveTransaction(_ transaction: UpstreamTransaction, id: String, expiresAt: Date) async throws {
        let body = try Self.encode(transaction)
        let at = expiresAt.timeIntervalSince1970
        _ = try await rows("INSERT INTO transactions (id, body, expires_at) VALUES (\(id), \(body), \(at))")
    }

    public func consumeTransaction(id: String, now: Date) async throws -> UpstreamTransaction? {
        try Self.body(
            UpstreamTransaction.self,
            try await rows(
                "DELETE FROM transactions WHERE id = \(id) AND expires_at > \(now.timeIntervalSince1970) RETURNING body"
            ).first)
    }

    public func saveConsent(_ consent: ConsentRecord) async throws {
        let body = try Self.encode(consent)
        let at = consent.expiresAt.timeIntervalSince1970
        _ = try await rows(
            """
            INSERT INTO consents (browser, client_id, redirect_uri, body, expires_at)
            VALUES (\(consent.browser), \(consent.clientID), \(consent.redirectURI), \(body), \(at))
            ON CONFLICT (browser, client_id, redirect_uri) DO UPDATE SET body = EXCLUDED.body, expires_at = EXCLUDED.expires_at
            """)
    }

    public func consent(browser: String, clientID: String, redirectURI: String) async throws -> ConsentRecord? {
        try Self.body(
            ConsentRecord.self,
            try await rows(
                "SELECT body FROM consents WHERE browser = \(browser) AND client_id = \(clientID) AND redirect_uri = \(redirectURI)"
            ).first)
    }

    public func saveCode(_ code: AuthorizationCodeRecord, hash: String) async throws {
        let body = try Self.encode(code)
        let at = code.expiresAt.timeIntervalSince1970
        _ = try await rows("INSERT INTO codes (hash, body, expires_at) VALUES (\(hash), \(body), \(at))")
    }

    public func code(hash: String, now: Date) async throws -> StoredCode? {
        let t = now.timeIntervalSince1970
        if let record = try Self.body(
            AuthorizationCodeRecord.self,
            try await rows(
                "SELECT body FROM codes WHERE hash = \(hash) AND used = 0 AND expires_at > \(t)"
            ).first)
        {
            return StoredCode(record: record, used: false)
        }
        return try Self.body(
            AuthorizationCodeRecord.self,
            try await rows(
                "SELECT body FROM codes WHERE hash = \(hash) AND used = 1 AND expires_at > \(t)"
            ).first
        ).map { StoredCode(record: $0, used: true) }
    }

    public func redeemCode(hash: String, now: Date) async throws -> CodeRedemption {
        let t = now.timeIntervalSince1970
        if let record = try Self.body(
            AuthorizationCodeRecord.self,
            try await rows(
                "UPDATE codes SET used = 1 WHERE hash = \(hash) AND used = 0 AND expires_at > \(t) RETURNING body"
            ).first)
        {
            return .redeemed(record)
        }
        if let record = try Self.body(
            AuthorizationCodeRecord.self,
            try await rows(
                "SELECT body FROM codes WHERE hash = \(hash) AND used = 1 AND expires_at > \(t)"
            ).first)
        {
            return .replayed(record)
        }
        return .invalid
    }

    public func createGrant(_ grant: Grant, firstRefreshToken: StoredRefreshToken?) async throws -> Bool {
        let grantBody = try Self.encode(grant)
        let tokenBody = try firstRefreshToken.map { try Self.encode($0.record) }
        let expiry = grant.expiresAt.timeIntervalSince1970
        return try await transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO grants (id, client_id, body, expires_at) VALUES (\(grant.id), \(grant.clientID), \(grantBody), \(expiry))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """, logger: logger
            ).collect()
            guard !inserted.isEmpty else { return false }
            if let firstRefreshToken, let tokenBody {
                try await connection.query(
                    "INSERT INTO refresh_tokens (hash, grant_id, body) VALUES (\(firstRefreshToken.hash), \(grant.id), \(tokenBody))",
                    logger: logger)
            }
            return true
        }
    }

    public func grant(id: String) async throws -> Grant? {
        guard let row = try await rows("SELECT body, revoked_at FROM grants WHERE id = \(id) AND body IS NOT NULL").first else { return nil }
        let (body, revoked) = try row.decode((String, Double?).self)
        var grant = try Self.decode(Grant.self, body)
        if let revoked { grant?.revokedAt = Date(timeIntervalSince1970: revoked) }
        return grant
    }

    public func refreshToken(hash: String) async throws -> RefreshTokenRecord? {
        try Self.body(RefreshTokenRecord.self, try await rows("SELECT body FROM refresh_tokens WHERE hash = \(hash)").first)
    }

    public func rotate(
        oldHash: String, rotatedAt: Date, sealedSuccessor: String, successorHash: String,
        successor: RefreshTokenRecord, upstream: SealedUpstreamTokens
    ) async throws -> Bool {
        let successorBody = try Self.encode(successor)
        return try await transaction { connection in
            // The row lock makes the check-and-set atomic across replicas.
            let locked = try await connection.query(
                "SELECT body FROM refresh_tokens WHERE hash = \(oldHash) AND rotated = 0 FOR UPDATE", logger: logger
            ).collect()
            guard var old = try Self.body(RefreshTokenRecord.self, locked.first) else { return false }
            // The grant's row lock orders this against a revocation on another
            // replica: whichever commits first, the other sees it.
            let grants = try await connection.query(
                "SELECT body FROM grants WHERE id = \(successor.grantID) AND body IS NOT NULL AND revoked_at IS NULL FOR UPDATE",
                logger: logger
            ).collect()
            guard var grant = try Self.body(Grant.self, grants.first) else { return false }
            old.rotatedAt = rotatedAt
            old.sealedSuccessor = sealedSuccessor
            let oldBody = try Self.encode(old)
            try await connection.query("UPDATE refresh_tokens SET rotated = 1, body = \(oldBody) WHERE hash = \(oldHash)", logger: logger)
            try await connection.query(
                "INSERT INTO refresh_tokens (hash, grant_id, body) VALUES (\(successorHash), \(successor.grantID), \(successorBody))", logger: logger)
            grant.upstream = upstream
            let grantBody = try Self.encode(grant)
            try await connection.query("UPDATE grants SET body = \(grantBody) WHERE id = \(grant.id)", logger: logger)
            return true
        }
    }

    /// The NOTIFY to the other replicas (`PostgresRevocationListener`) is
    /// part of the revoking statement, so it is sent if and only if the
    /// revocation commits.
    public func revokeGrant(id: String, at: Date) async throws {
        _ = try await rows(
            """
            WITH revoked AS (
                INSERT INTO grants (id, client_id, body, revoked_at) VALUES (\(id), '', NULL, \(at.timeIntervalSince1970))
                ON CONFLICT (id) DO UPDATE SET revoked_at = EXCLUDED.revoked_at WHERE grants.revoked_at IS NULL
            )
            SELECT pg_notify('\(unescaped: Self.revocationChannel)', \(id))
            """)
        revocations.announce([id])
    }

    public func ping() async throws {
        _ = try await rows("SELECT 1")
    }

    /// Batches of `purgeBatch` rows, each one statement (or one transaction
    /// for a batch of grants and their refresh tokens).
    public func purgeExpired(now: Date) async throws -> PurgeCounts {
        var counts = PurgeCounts()
        let t = now.timeIntervalSince1970
        let batch = Self.purgeBatch
        // Table and key names are constants here, never input.
        for (table, key) in [("pending_consents", "id"), ("transactions", "id"), ("codes", "hash")] {
            counts.shortLived += try await purgeBatches { [self] in
                var binds = PostgresBindings()
                binds.append(t)
                return try await rows(
                    PostgresQuery(
                        unsafeSQL:
                            "DELETE FROM \(table) WHERE \(key) IN (SELECT \(key) FROM \(table) WHERE expires_at <= $1 LIMIT \(batch)) RETURNING 1",
                        binds: binds)
                ).count
            }
        }
        counts.consents = try await purgeBatches { [self] in
            try await rows(
                """
                DELETE FROM consents WHERE ctid IN (SELECT ctid FROM consents WHERE expires_at <= \(t) LIMIT \(batch)) RETURNING 1
                """
            ).count
        }
        let revoked = t - revokedRetention
        while true {
            let (grants, tokens) = try await transaction { connection -> (Int, Int) in
                let ids = try await connection.query(
                    """
                    DELETE FROM grants WHERE id IN (SELECT id FROM grants WHERE expires_at <= \(t) OR revoked_at <= \(revoked) LIMIT \(batch))
                    RETURNING id
                    """, logger: logger
                ).collect().map { try $0.decode(String.self) }
                let tokens =
                    ids.isEmpty
                    ? 0
                    : try await connection.query(
                        "DELETE FROM refresh_tokens WHERE grant_id = ANY(\(ids)) RETURNING 1", logger: logger
                    ).collect().count
                return (ids.count, tokens)
            }
            counts.grants += grants
            counts.refreshTokens += tokens
            if grants < batch { break }
        }
        // Shared rate windows and refresh leases no replica can still be using.
        _ = try await rows("DELETE FROM rate_windows WHERE window_start < \(t - 3600)")
        _ = try await rows("DELETE FROM refresh_leases WHERE expires_at < extract(epoch from clock_timestamp()) - 3600")
        return counts
    }

    public func purgeAudit(before: Date) async throws -> Int {
        let t = before.timeIntervalSince1970
        let batch = Self.purgeBatch
        return try await purgeBatches { [self] in
            try await rows("DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE at < \(t) LIMIT \(batch)) RETURNING 1").count
        }
    }

    static let purgeBatch = 1000

    func purgeBatches(_ step: () async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await step()
            total += deleted
            if deleted < Self.purgeBatch { return total }
        }
    }
}
