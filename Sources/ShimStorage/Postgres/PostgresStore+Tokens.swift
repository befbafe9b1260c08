public import Foundation
import PostgresNIO
public import ShimCore

extension PostgresStore {
    /// One statement, atomic across replicas: the insert wins, or revives a
    /// record that expired; a live record returns no row.
    public func recordAssertionID(_ key: String, expiresAt: Date, now: Date) async throws -> Bool {
        let expires = expiresAt.timeIntervalSince1970
        let t = now.timeIntervalSince1970
        return try await !rows(
            """
            INSERT INTO assertion_ids (key, expires_at) VALUES (\(key), \(expires))
            ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE assertion_ids.expires_at <= \(t) RETURNING key
            """
        ).isEmpty
    }

    public func purgeExpiredAssertionIDs(now: Date) async throws {
        _ = try await rows("DELETE FROM assertion_ids WHERE expires_at <= \(now.timeIntervalSince1970)")
    }

    public func grantStatus(id: String) async throws -> GrantStatus? {
        guard let row = try await rows("SELECT client_id, revoked_at, body IS NULL, expires_at FROM grants WHERE id = \(id)").first else {
            return nil
        }
        let (client, revokedAt, tombstone, expiresAt) = try row.decode((String, Double?, Bool, Double?).self)
        return GrantStatus(clientID: client, revoked: revokedAt != nil || tombstone, expiresAt: expiresAt.map(Date.init(timeIntervalSince1970:)))
    }

    public func replaceUpstream(grantID: String, upstream: SealedUpstreamTokens) async throws -> Bool {
        try await transaction { connection in
            let rows = try await connection.query(
                "SELECT body FROM grants WHERE id = \(grantID) AND body IS NOT NULL AND revoked_at IS NULL FOR UPDATE",
                logger: logger
            ).collect()
            guard var grant = try Self.body(Grant.self, rows.first) else { return false }
            grant.upstream = upstream
            let body = try Self.encode(grant)
            try await connection.query("UPDATE grants SET body = \(body) WHERE id = \(grantID)", logger: logger)
            return true
        }
    }
}
