public import Foundation
import PostgresNIO
public import ShimCore

/// The audit trail and what the admin commands need.
extension PostgresStore {
    public func appendAudit(_ event: AuditEvent) async throws {
        let body = try Self.encode(event)
        _ = try await rows(
            "INSERT INTO audit (at, kind, client_id, body) VALUES (\(event.at.timeIntervalSince1970), \(event.kind.rawValue), \(event.clientID), \(body))"
        )
    }

    public func auditEvents(since: Date?, limit: Int) async throws -> [AuditEvent] {
        let from = (since ?? .distantPast).timeIntervalSince1970
        return try await rows("SELECT body FROM audit WHERE at >= \(from) ORDER BY seq LIMIT \(limit)")
            .compactMap { try Self.body(AuditEvent.self, $0) }
    }

    public func listClients(limit: Int) async throws -> [RegisteredClient] {
        try await rows("SELECT body, used_at FROM clients ORDER BY created_at DESC LIMIT \(limit)").compactMap { row in
            let (body, used) = try row.decode((String, Double?).self)
            var client = try Self.decode(RegisteredClient.self, body)
            if let used { client?.usedAt = Date(timeIntervalSince1970: used) }
            return client
        }
    }

    public func deleteClient(id: String) async throws -> Bool {
        try await !rows("DELETE FROM clients WHERE id = \(id) RETURNING id").isEmpty
    }

    public func listGrants(clientID: String?, limit: Int) async throws -> [Grant] {
        let found =
            if let clientID {
                try await rows(
                    "SELECT body, revoked_at FROM grants WHERE body IS NOT NULL AND client_id = \(clientID) ORDER BY seq DESC LIMIT \(limit)")
            } else {
                try await rows("SELECT body, revoked_at FROM grants WHERE body IS NOT NULL ORDER BY seq DESC LIMIT \(limit)")
            }
        return try found.compactMap { row in
            let (body, revoked) = try row.decode((String, Double?).self)
            var grant = try Self.decode(Grant.self, body)
            if let revoked { grant?.revokedAt = Date(timeIntervalSince1970: revoked) }
            return grant
        }
    }

    public func revokeGrants(clientID: String, at: Date) async throws -> Int {
        // One NOTIFY per grant, in the revoking statement (see `revokeGrant`).
        let ids = try await rows(
            """
            WITH revoked AS (
                UPDATE grants SET revoked_at = \(at.timeIntervalSince1970) WHERE client_id = \(clientID) AND revoked_at IS NULL RETURNING id
            )
            SELECT revoked.id FROM revoked, pg_notify('\(unescaped: Self.revocationChannel)', revoked.id) AS notified
            """
        ).map { try $0.decode(String.self) }
        revocations.announce(ids)
        return ids.count
    }
}
