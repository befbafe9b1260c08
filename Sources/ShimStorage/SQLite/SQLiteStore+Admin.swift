public import Foundation
public import ShimCore

extension SQLiteStore {
    public func appendAudit(_ event: AuditEvent) async throws {
        let body = try RecordCoding.encode(event)
        try await write { db in try Self.insertAudit(event, body: body, db) }
    }

    public func auditEvents(since: Date?, limit: Int) async throws -> [AuditEvent] {
        let rows = try await readQuery(
            "SELECT body FROM audit WHERE at >= ? ORDER BY seq LIMIT ?",
            [RecordCoding.time(since ?? .distantPast), .integer(Int64(limit))])
        return try rows.compactMap { try RecordCoding.decode(AuditEvent.self, $0) }
    }

    public func listClients(limit: Int) async throws -> [RegisteredClient] {
        let rows = try await readQuery("SELECT body, used_at FROM clients ORDER BY created_at DESC LIMIT ?", [.integer(Int64(limit))])
        return try rows.compactMap { row in
            var client = try RecordCoding.decode(RegisteredClient.self, row)
            if let used = RecordCoding.date(row["used_at"]) { client?.usedAt = used }
            return client
        }
    }

    public func deleteClient(id: String) async throws -> Bool {
        try await !writeQuery("DELETE FROM clients WHERE id = ? RETURNING id", [.text(id)]).isEmpty
    }

    public func listGrants(clientID: String?, limit: Int) async throws -> [Grant] {
        let rows =
            if let clientID {
                try await readQuery(
                    "SELECT body, revoked_at FROM grants WHERE body IS NOT NULL AND client_id = ? ORDER BY rowid DESC LIMIT ?",
                    [.text(clientID), .integer(Int64(limit))])
            } else {
                try await readQuery(
                    "SELECT body, revoked_at FROM grants WHERE body IS NOT NULL ORDER BY rowid DESC LIMIT ?", [.integer(Int64(limit))])
            }
        return try rows.compactMap { row in
            var grant = try RecordCoding.decode(Grant.self, row)
            if let revoked = RecordCoding.date(row["revoked_at"]) { grant?.revokedAt = revoked }
            return grant
        }
    }

    public func revokeGrants(clientID: String, at: Date) async throws -> Int {
        let ids = try await writeQuery(
            "UPDATE grants SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL RETURNING id",
            [RecordCoding.time(at), .text(clientID)]
        ).compactMap { $0["id"]?.text }
        revocations.announce(ids)
        return ids.count
    }
}
