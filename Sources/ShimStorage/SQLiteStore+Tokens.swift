public import ShimCore
import SQLiteNIO

extension SQLiteStore {
    public func replaceUpstream(grantID: String, upstream: SealedUpstreamTokens) async throws -> Bool {
        try await transaction {
            let rows = try await self.queryLocked("SELECT body FROM grants WHERE id = ? AND body IS NOT NULL AND revoked_at IS NULL",
                                                  [.text(grantID)])
            guard var grant = try RecordCoding.decode(Grant.self, rows.first) else { return false }
            grant.upstream = upstream
            _ = try await self.queryLocked("UPDATE grants SET body = ? WHERE id = ?", [try RecordCoding.encode(grant), .text(grantID)])
            return true
        }
    }
}
