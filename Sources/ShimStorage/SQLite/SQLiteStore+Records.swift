public import Foundation
public import ShimCore

extension SQLiteStore {
    public func insertClient(_ client: RegisteredClient) async throws {
        let body = try RecordCoding.encode(client)
        _ = try await writeQuery(
            "INSERT INTO clients (id, body, created_at, origin) VALUES (?, ?, ?, ?)",
            [.text(client.clientID), body, RecordCoding.time(client.createdAt), .text(client.origin.rawValue)])
    }

    /// The count check and both inserts run in one write of the writer's
    /// batch, so the cap is exact on SQLite.
    public func registerClient(_ client: RegisteredClient, audit: AuditEvent, maxClients: Int) async throws -> Bool {
        let body = try RecordCoding.encode(client)
        let auditBody = try RecordCoding.encode(audit)
        return try await write { db in
            let count = try db.query("SELECT value FROM counters WHERE name = 'clients'").first?["value"]?.integer ?? 0
            guard count < maxClients else { return false }
            try db.query(
                "INSERT INTO clients (id, body, created_at, origin) VALUES (?, ?, ?, ?)",
                [.text(client.clientID), body, RecordCoding.time(client.createdAt), .text(client.origin.rawValue)])
            try Self.insertAudit(audit, body: auditBody, db)
            return true
        }
    }

    public func client(id: String) async throws -> RegisteredClient? {
        let rows = try await readQuery("SELECT body, used_at FROM clients WHERE id = ?", [.text(id)])
        guard var client = try RecordCoding.decode(RegisteredClient.self, rows.first) else { return nil }
        if let used = RecordCoding.date(rows.first?["used_at"]) { client.usedAt = used }
        return client
    }

    public func configuredClients() async throws -> [RegisteredClient] {
        let rows = try await readQuery("SELECT body, used_at FROM clients WHERE origin = 'configured' ORDER BY id", [])
        return try rows.compactMap { row in
            var client = try RecordCoding.decode(RegisteredClient.self, row)
            if let used = RecordCoding.date(row["used_at"]) { client?.usedAt = used }
            return client
        }
    }

    public func markClientUsed(id: String, at: Date) async throws {
        _ = try await writeQuery("UPDATE clients SET used_at = ? WHERE id = ? AND used_at IS NULL", [RecordCoding.time(at), .text(id)])
    }

    public func countClients() async throws -> Int {
        try await readQuery("SELECT value FROM counters WHERE name = 'clients'", []).first?["value"]?.integer ?? 0
    }

    public func purgeUnusedClients(createdBefore: Date) async throws -> Int {
        try await writeQuery("DELETE FROM clients WHERE used_at IS NULL AND created_at < ? RETURNING id", [RecordCoding.time(createdBefore)]).count
    }

    public func savePending(_ pending: PendingConsent, id: String, expiresAt: Date) async throws {
        let body = try RecordCoding.encode(pending)
        _ = try await writeQuery(
            "INSERT INTO pending_consents (id, body, expires_at) VALUES (?, ?, ?)", [.text(id), body, RecordCoding.time(expiresAt)])
    }

    public func countPending() async throws -> Int {
        try await readQuery("SELECT value FROM counters WHERE name = 'pending_consents'", []).first?["value"]?.integer ?? 0
    }

    public func pending(id: String, now: Date) async throws -> PendingConsent? {
        let rows = try await readQuery("SELECT body FROM pending_consents WHERE id = ? AND expires_at > ?", [.text(id), RecordCoding.time(now)])
        return try RecordCoding.decode(PendingConsent.self, rows.first)
    }

    /// DELETE … RETURNING is one statement: two racing consumers cannot both get the row.
    public func consumePending(id: String, now: Date) async throws -> PendingConsent? {
        let rows = try await writeQuery("DELETE FROM pending_consents WHERE id = ? RETURNING body, expires_at", [.text(id)])
        guard let row = rows.first, (row["expires_at"]?.double ?? 0) > now.timeIntervalSince1970 else { return nil }
        return try RecordCoding.decode(PendingConsent.self, row)
    }

    public func saveTransaction(_ transaction: UpstreamTransaction, id: String, expiresAt: Date) async throws {
        let body = try RecordCoding.encode(transaction)
        _ = try await writeQuery("INSERT INTO transactions (id, body, expires_at) VALUES (?, ?, ?)", [.text(id), body, RecordCoding.time(expiresAt)])
    }

    public func consumeTransaction(id: String, now: Date) async throws -> UpstreamTransaction? {
        let rows = try await writeQuery("DELETE FROM transactions WHERE id = ? RETURNING body, expires_at", [.text(id)])
        guard let row = rows.first, (row["expires_at"]?.double ?? 0) > now.timeIntervalSince1970 else { return nil }
        return try RecordCoding.decode(UpstreamTransaction.self, row)
    }

    public func saveConsent(_ consent: ConsentRecord) async throws {
        let body = try RecordCoding.encode(consent)
        _ = try await writeQuery(
            "INSERT OR REPLACE INTO consents (browser, client_id, redirect_uri, body, expires_at) VALUES (?, ?, ?, ?, ?)",
            [.text(consent.browser), .text(consent.clientID), .text(consent.redirectURI), body, RecordCoding.time(consent.expiresAt)])
    }

    public func consent(browser: String, clientID: String, redirectURI: String) async throws -> ConsentRecord? {
        let rows = try await readQuery(
            "SELECT body FROM consents WHERE browser = ? AND client_id = ? AND redirect_uri = ?",
            [.text(browser), .text(clientID), .text(redirectURI)])
        return try RecordCoding.decode(ConsentRecord.self, rows.first)
    }

    public func saveCode(_ code: AuthorizationCodeRecord, hash: String) async throws {
        let body = try RecordCoding.encode(code)
        _ = try await writeQuery(
            "INSERT INTO codes (hash, body, expires_at) VALUES (?, ?, ?)", [.text(hash), body, RecordCoding.time(code.expiresAt)])
    }

    public func code(hash: String, now: Date) async throws -> StoredCode? {
        let rows = try await readQuery("SELECT body, used FROM codes WHERE hash = ? AND expires_at > ?", [.text(hash), RecordCoding.time(now)])
        guard let row = rows.first, let record = try RecordCoding.decode(AuthorizationCodeRecord.self, row) else { return nil }
        return StoredCode(record: record, used: row["used"]?.integer == 1)
    }

    /// `UPDATE … WHERE used = 0 RETURNING` marks the code used in one
    /// statement; only the first caller gets the row back.
    public func redeemCode(hash: String, now: Date) async throws -> CodeRedemption {
        try await write { db in
            let won = try db.query(
                "UPDATE codes SET used = 1 WHERE hash = ? AND used = 0 AND expires_at > ? RETURNING body",
                [.text(hash), RecordCoding.time(now)])
            if let record = try RecordCoding.decode(AuthorizationCodeRecord.self, won.first) { return .redeemed(record) }
            let used = try db.query("SELECT body FROM codes WHERE hash = ? AND used = 1 AND expires_at > ?", [.text(hash), RecordCoding.time(now)])
            if let record = try RecordCoding.decode(AuthorizationCodeRecord.self, used.first) { return .replayed(record) }
            return .invalid
        }
    }

    public func createGrant(_ grant: Grant, firstRefreshToken: StoredRefreshToken?) async throws -> Bool {
        let grantBody = try RecordCoding.encode(grant)
        let tokenBody = try firstRefreshToken.map { try RecordCoding.encode($0.record) }
        return try await write { db in
            let inserted = try db.query(
                "INSERT INTO grants (id, client_id, body, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
                [.text(grant.id), .text(grant.clientID), grantBody, RecordCoding.time(grant.expiresAt)])
            guard !inserted.isEmpty else { return false }
            if let firstRefreshToken, let tokenBody {
                try db.query(
                    "INSERT INTO refresh_tokens (hash, grant_id, body) VALUES (?, ?, ?)",
                    [.text(firstRefreshToken.hash), .text(grant.id), tokenBody])
            }
            return true
        }
    }

    public func grant(id: String) async throws -> Grant? {
        let rows = try await readQuery("SELECT body, revoked_at FROM grants WHERE id = ? AND body IS NOT NULL", [.text(id)])
        guard var grant = try RecordCoding.decode(Grant.self, rows.first) else { return nil }
        if let revoked = RecordCoding.date(rows.first?["revoked_at"]) { grant.revokedAt = revoked }
        return grant
    }

    public func refreshToken(hash: String) async throws -> RefreshTokenRecord? {
        try RecordCoding.decode(RefreshTokenRecord.self, try await readQuery("SELECT body FROM refresh_tokens WHERE hash = ?", [.text(hash)]).first)
    }

    public func rotate(
        oldHash: String, rotatedAt: Date, sealedSuccessor: String,
        successorHash: String, successor: RefreshTokenRecord, upstream: SealedUpstreamTokens
    ) async throws -> Bool {
        let successorBody = try RecordCoding.encode(successor)
        return try await write { db in
            let rows = try db.query("SELECT body FROM refresh_tokens WHERE hash = ? AND rotated = 0", [.text(oldHash)])
            guard var old = try RecordCoding.decode(RefreshTokenRecord.self, rows.first) else { return false }
            let live = try db.query("SELECT 1 FROM grants WHERE id = ? AND body IS NOT NULL AND revoked_at IS NULL", [.text(successor.grantID)])
            guard !live.isEmpty else { return false }
            old.rotatedAt = rotatedAt
            old.sealedSuccessor = sealedSuccessor
            try db.query("UPDATE refresh_tokens SET rotated = 1, body = ? WHERE hash = ?", [try RecordCoding.encode(old), .text(oldHash)])
            try db.query(
                "INSERT INTO refresh_tokens (hash, grant_id, body) VALUES (?, ?, ?)", [.text(successorHash), .text(successor.grantID), successorBody])
            let grantRows = try db.query("SELECT body FROM grants WHERE id = ?", [.text(successor.grantID)])
            if var grant = try RecordCoding.decode(Grant.self, grantRows.first) {
                grant.upstream = upstream
                try db.query("UPDATE grants SET body = ? WHERE id = ?", [try RecordCoding.encode(grant), .text(grant.id)])
            }
            return true
        }
    }

    /// A grant not yet created gets a tombstone row (no body) so that the
    /// `createGrant` racing a code replay fails.
    public func revokeGrant(id: String, at: Date) async throws {
        _ = try await writeQuery(
            """
            INSERT INTO grants (id, client_id, body, revoked_at) VALUES (?, '', NULL, ?)
            ON CONFLICT (id) DO UPDATE SET revoked_at = excluded.revoked_at WHERE grants.revoked_at IS NULL
            """, [.text(id), RecordCoding.time(at)])
        revocations.announce([id])
    }

    public func ping() async throws {
        _ = try await readQuery("SELECT 1", [])
    }

    /// In batches of `purgeBatch` rows, each its own write, so a large purge
    /// never holds the writer (and every request's commit) for long.
    public func purgeExpired(now: Date) async throws -> PurgeCounts {
        var counts = PurgeCounts()
        let t = RecordCoding.time(now)
        for table in ["pending_consents", "transactions", "codes"] {
            counts.shortLived += try await purgeBatches(
                "DELETE FROM \(table) WHERE rowid IN (SELECT rowid FROM \(table) WHERE expires_at <= ? LIMIT \(Self.purgeBatch))", [t])
        }
        counts.consents = try await purgeBatches(
            "DELETE FROM consents WHERE rowid IN (SELECT rowid FROM consents WHERE expires_at <= ? LIMIT \(Self.purgeBatch))", [t])
        let revoked = RecordCoding.time(now.addingTimeInterval(-revokedRetention))
        while true {
            let (grants, tokens) = try await write { db -> (Int, Int) in
                let ids = try db.query(
                    """
                    DELETE FROM grants WHERE id IN (SELECT id FROM grants WHERE expires_at <= ? OR revoked_at <= ? LIMIT \(Self.purgeBatch))
                    RETURNING id
                    """, [t, revoked]
                ).compactMap { $0["id"]?.text }
                var tokens = 0
                for id in ids { tokens += try db.query("DELETE FROM refresh_tokens WHERE grant_id = ? RETURNING hash", [.text(id)]).count }
                return (ids.count, tokens)
            }
            counts.grants += grants
            counts.refreshTokens += tokens
            if grants < Self.purgeBatch { break }
        }
        return counts
    }

    public func purgeAudit(before: Date) async throws -> Int {
        try await purgeBatches(
            "DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE at < ? LIMIT \(Self.purgeBatch))",
            [RecordCoding.time(before)])
    }

    static let purgeBatch = 1000

    /// Runs a `DELETE … LIMIT`-shaped statement until it deletes less than a batch.
    func purgeBatches(_ sql: String, _ binds: [SQLiteValue]) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await write { db in
                try db.query(sql, binds)
                return db.changes
            }
            total += deleted
            if deleted < Self.purgeBatch { return total }
        }
    }

    static func insertAudit(_ event: AuditEvent, body: SQLiteValue, _ db: SQLiteDB) throws {
        try db.query(
            "INSERT INTO audit (at, kind, client_id, body) VALUES (?, ?, ?, ?)",
            [RecordCoding.time(event.at), .text(event.kind.rawValue), .text(event.clientID), body])
    }
}
