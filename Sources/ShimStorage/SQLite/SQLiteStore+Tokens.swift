public import Foundation
public import ShimCore

extension SQLiteStore {
    /// One statement: the insert wins, or revives a record that expired; a live record returns no row.
    public func recordAssertionID(_ key: String, expiresAt: Date, now: Date) async throws -> Bool {
        try await !writeQuery(
            """
            INSERT INTO assertion_ids (key, expires_at) VALUES (?, ?)
            ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE assertion_ids.expires_at <= ? RETURNING key
            """, [.text(key), RecordCoding.time(expiresAt), RecordCoding.time(now)]
        ).isEmpty
    }

    public func purgeExpiredAssertionIDs(now: Date) async throws {
        _ = try await purgeBatches(
            "DELETE FROM assertion_ids WHERE rowid IN (SELECT rowid FROM assertion_ids WHERE expires_at <= ? LIMIT \(Self.purgeBatch))",
            [RecordCoding.time(now)])
    }

    public func grantStatus(id: String) async throws -> GrantStatus? {
        guard
            let row = try await readQuery("SELECT client_id, revoked_at, expires_at, body IS NULL AS tombstone FROM grants WHERE id = ?", [.text(id)])
                .first
        else {
            return nil
        }
        let revoked = row["revoked_at"]?.double != nil || row["tombstone"]?.integer == 1
        return GrantStatus(clientID: row["client_id"]?.text ?? "", revoked: revoked, expiresAt: RecordCoding.date(row["expires_at"]))
    }

    public func replaceUpstream(grantID: String, upstream: SealedUpstreamTokens) async throws -> Bool {
        try await write { db in
            let rows = try db.query("SELECT body FROM grants WHERE id = ? AND body IS NOT NULL AND revoked_at IS NULL", [.text(grantID)])
            guard var grant = try RecordCoding.decode(Grant.self, rows.first) else { return false }
            grant.upstream = upstream
            try db.query("UPDATE grants SET body = ? WHERE id = ?", [try RecordCoding.encode(grant), .text(grantID)])
            return true
        }
    }
}
