public import Foundation
public import ShimCore
import SQLiteNIO

extension SQLiteStore {
    public func appendAudit(_ event: AuditEvent) async throws {
        _ = try await query("INSERT INTO audit (at, kind, client_id, body) VALUES (?, ?, ?, ?)",
                            [RecordCoding.time(event.at), .text(event.kind.rawValue), .text(event.clientID), try RecordCoding.encode(event)])
    }

    public func auditEvents(since: Date?, limit: Int) async throws -> [AuditEvent] {
        let rows = try await query("SELECT body FROM audit WHERE at >= ? ORDER BY seq LIMIT ?",
                                   [RecordCoding.time(since ?? .distantPast), .integer(limit)])
        return try rows.compactMap { try RecordCoding.decode(AuditEvent.self, $0) }
    }

    public func listClients(limit: Int) async throws -> [RegisteredClient] {
        let rows = try await query("SELECT body, used_at FROM clients ORDER BY created_at DESC LIMIT ?", [.integer(limit)])
        return try rows.compactMap { row in
            var client = try RecordCoding.decode(RegisteredClient.self, row)
            if let used = row.column("used_at")?.double { client?.usedAt = Date(timeIntervalSince1970: used) }
            return client
        }
    }

    public func deleteClient(id: String) async throws -> Bool {
        try await !query("DELETE FROM clients WHERE id = ? RETURNING id", [.text(id)]).isEmpty
    }

    public func listGrants(clientID: String?, limit: Int) async throws -> [Grant] {
        let rows = clientID == nil
            ? try await query("SELECT body, revoked_at FROM grants WHERE body IS NOT NULL ORDER BY rowid DESC LIMIT ?", [.integer(limit)])
            : try await query("SELECT body, revoked_at FROM grants WHERE body IS NOT NULL AND client_id = ? ORDER BY rowid DESC LIMIT ?",
                              [.text(clientID!), .integer(limit)])
        return try rows.compactMap { row in
            var grant = try RecordCoding.decode(Grant.self, row)
            if let revoked = row.column("revoked_at")?.double { grant?.revokedAt = Date(timeIntervalSince1970: revoked) }
            return grant
        }
    }

    public func revokeGrants(clientID: String, at: Date) async throws -> Int {
        try await query("UPDATE grants SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL RETURNING id",
                        [RecordCoding.time(at), .text(clientID)]).count
    }
}
