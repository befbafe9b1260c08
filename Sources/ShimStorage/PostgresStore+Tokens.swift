public import ShimCore
import PostgresNIO

extension PostgresStore {
    public func grantStatus(id: String) async throws -> GrantStatus? {
        guard let row = try await rows("SELECT client_id, revoked_at, body IS NULL FROM grants WHERE id = \(id)").first else { return nil }
        let (client, revokedAt, tombstone) = try row.decode((String, Double?, Bool).self)
        return GrantStatus(clientID: client, revoked: revokedAt != nil || tombstone)
    }

    public func replaceUpstream(grantID: String, upstream: SealedUpstreamTokens) async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT body FROM grants WHERE id = \(grantID) AND body IS NOT NULL AND revoked_at IS NULL FOR UPDATE",
                logger: logger).collect()
            guard var grant = try Self.body(Grant.self, rows.first) else { return false }
            grant.upstream = upstream
            let body = try Self.encode(grant)
            try await connection.query("UPDATE grants SET body = \(body) WHERE id = \(grantID)", logger: logger)
            return true
        }
    }
}
