public import Foundation
import PostgresNIO
public import ShimCore

extension PostgresStore {
    /// MCP sessions opened through the gateway (GatewaySessionStore), shared by replicas.
    static let gatewaySessionMigrations = [
        """
        CREATE TABLE IF NOT EXISTS gateway_sessions (key TEXT PRIMARY KEY, subject TEXT NOT NULL, client_id TEXT NOT NULL,
            resource TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS gateway_sessions_expiry ON gateway_sessions (expires_at)",
    ]

    /// The upsert locks the key's row even when its `WHERE` keeps another
    /// owner's live record, so the read after it in the same transaction
    /// sees what replicas racing on the key agreed on.
    public func recordGatewaySession(key: String, owner: GatewaySessionOwner, expiresAt: Date, now: Date) async throws -> GatewaySessionRecord {
        let expires = expiresAt.timeIntervalSince1970
        let t = now.timeIntervalSince1970
        return try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO gateway_sessions (key, subject, client_id, resource, expires_at)
                VALUES (\(key), \(owner.subject), \(owner.clientID), \(owner.resource), \(expires))
                ON CONFLICT (key) DO UPDATE SET subject = EXCLUDED.subject, client_id = EXCLUDED.client_id,
                    resource = EXCLUDED.resource, expires_at = EXCLUDED.expires_at
                WHERE gateway_sessions.expires_at <= \(t) OR (gateway_sessions.subject = EXCLUDED.subject
                    AND gateway_sessions.client_id = EXCLUDED.client_id AND gateway_sessions.resource = EXCLUDED.resource)
                """, logger: logger)
            let rows = try await connection.query(
                "SELECT subject, client_id, resource, expires_at FROM gateway_sessions WHERE key = \(key)", logger: logger
            ).collect()
            return try Self.gatewaySessionRecord(rows.first) ?? GatewaySessionRecord(owner: owner, expiresAt: expiresAt)
        }
    }

    public func gatewaySession(key: String, now: Date) async throws -> GatewaySessionRecord? {
        let rows = try await rows(
            "SELECT subject, client_id, resource, expires_at FROM gateway_sessions WHERE key = \(key) AND expires_at > \(now.timeIntervalSince1970)")
        return try Self.gatewaySessionRecord(rows.first)
    }

    public func touchGatewaySession(key: String, expiresAt: Date) async throws {
        _ = try await rows("UPDATE gateway_sessions SET expires_at = \(expiresAt.timeIntervalSince1970) WHERE key = \(key)")
    }

    public func forgetGatewaySession(key: String) async throws {
        _ = try await rows("DELETE FROM gateway_sessions WHERE key = \(key)")
    }

    public func purgeExpiredGatewaySessions(now: Date) async throws -> Int {
        try await rows("DELETE FROM gateway_sessions WHERE expires_at <= \(now.timeIntervalSince1970) RETURNING 1").count
    }

    static func gatewaySessionRecord(_ row: PostgresRow?) throws -> GatewaySessionRecord? {
        guard let row else { return nil }
        let (subject, clientID, resource, expiresAt) = try row.decode((String, String, String, Double).self)
        return GatewaySessionRecord(
            owner: GatewaySessionOwner(subject: subject, clientID: clientID, resource: resource),
            expiresAt: Date(timeIntervalSince1970: expiresAt))
    }
}
