public import Foundation
public import ShimCore

extension SQLiteStore {
    /// Version 6: MCP sessions opened through the gateway (GatewaySessionStore).
    static let gatewaySessionSchema = [
        """
        CREATE TABLE IF NOT EXISTS gateway_sessions (key TEXT PRIMARY KEY, subject TEXT NOT NULL, client_id TEXT NOT NULL,
            resource TEXT NOT NULL, expires_at REAL NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS gateway_sessions_expiry ON gateway_sessions (expires_at)",
    ]

    /// The insert (or the refresh of the same owner's record) and the read
    /// of what is stored are one write of the batch.
    public func recordGatewaySession(key: String, owner: GatewaySessionOwner, expiresAt: Date, now: Date) async throws -> GatewaySessionRecord {
        try await write { db in
            try db.query(
                """
                INSERT INTO gateway_sessions (key, subject, client_id, resource, expires_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET subject = excluded.subject, client_id = excluded.client_id,
                    resource = excluded.resource, expires_at = excluded.expires_at
                WHERE gateway_sessions.expires_at <= ? OR (gateway_sessions.subject = excluded.subject
                    AND gateway_sessions.client_id = excluded.client_id AND gateway_sessions.resource = excluded.resource)
                """,
                [
                    .text(key), .text(owner.subject), .text(owner.clientID), .text(owner.resource), RecordCoding.time(expiresAt),
                    RecordCoding.time(now),
                ])
            let rows = try db.query("SELECT subject, client_id, resource, expires_at FROM gateway_sessions WHERE key = ?", [.text(key)])
            return Self.gatewaySessionRecord(rows.first) ?? GatewaySessionRecord(owner: owner, expiresAt: expiresAt)
        }
    }

    public func gatewaySession(key: String, now: Date) async throws -> GatewaySessionRecord? {
        let rows = try await readQuery(
            "SELECT subject, client_id, resource, expires_at FROM gateway_sessions WHERE key = ? AND expires_at > ?",
            [.text(key), RecordCoding.time(now)])
        return Self.gatewaySessionRecord(rows.first)
    }

    public func touchGatewaySession(key: String, expiresAt: Date) async throws {
        _ = try await writeQuery("UPDATE gateway_sessions SET expires_at = ? WHERE key = ?", [RecordCoding.time(expiresAt), .text(key)])
    }

    public func forgetGatewaySession(key: String) async throws {
        _ = try await writeQuery("DELETE FROM gateway_sessions WHERE key = ?", [.text(key)])
    }

    public func purgeExpiredGatewaySessions(now: Date) async throws -> Int {
        try await purgeBatches(
            "DELETE FROM gateway_sessions WHERE rowid IN (SELECT rowid FROM gateway_sessions WHERE expires_at <= ? LIMIT \(Self.purgeBatch))",
            [RecordCoding.time(now)])
    }

    static func gatewaySessionRecord(_ row: SQLiteRow?) -> GatewaySessionRecord? {
        guard let row, let subject = row["subject"]?.text, let clientID = row["client_id"]?.text, let resource = row["resource"]?.text,
            let expiresAt = RecordCoding.date(row["expires_at"])
        else { return nil }
        return GatewaySessionRecord(owner: GatewaySessionOwner(subject: subject, clientID: clientID, resource: resource), expiresAt: expiresAt)
    }
}
