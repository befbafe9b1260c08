public import Foundation
import PostgresNIO
public import ShimCore

extension PostgresStore {
    /// The table of clients known by their metadata document (migrated with the rest).
    static let cimdMigrations = [
        """
        CREATE TABLE IF NOT EXISTS cimd_clients (url TEXT PRIMARY KEY, host TEXT NOT NULL, body TEXT NOT NULL,
            first_seen DOUBLE PRECISION NOT NULL, last_fetched DOUBLE PRECISION NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS cimd_clients_fetched ON cimd_clients (last_fetched)",
    ]

    /// Replicas fetching the same document at once: the row lock makes the
    /// read of the previous record and the write one step.
    public func recordCIMDClient(_ record: CIMDClientRecord) async throws -> CIMDClientRecord? {
        try await transaction { connection in
            let body = try Self.encode(record)
            let inserted = try await connection.query(
                """
                INSERT INTO cimd_clients (url, host, body, first_seen, last_fetched)
                VALUES (\(record.url), \(record.host), \(body), \(record.firstSeen.timeIntervalSince1970), \(record.lastFetched.timeIntervalSince1970))
                ON CONFLICT (url) DO NOTHING RETURNING url
                """, logger: logger
            ).collect()
            guard inserted.isEmpty else { return nil }
            let rows = try await connection.query("SELECT body FROM cimd_clients WHERE url = \(record.url) FOR UPDATE", logger: logger).collect()
            let previous = try Self.body(CIMDClientRecord.self, rows.first)
            var merged = record
            if let previous { merged.firstSeen = min(previous.firstSeen, record.firstSeen) }
            let mergedBody = try Self.encode(merged)
            try await connection.query(
                """
                UPDATE cimd_clients SET host = \(merged.host), body = \(mergedBody), first_seen = \(merged.firstSeen.timeIntervalSince1970),
                    last_fetched = \(merged.lastFetched.timeIntervalSince1970) WHERE url = \(merged.url)
                """, logger: logger)
            return previous
        }
    }

    public func cimdClient(url: String) async throws -> CIMDClientRecord? {
        try Self.body(CIMDClientRecord.self, try await rows("SELECT body FROM cimd_clients WHERE url = \(url)").first)
    }

    public func listCIMDClients(limit: Int) async throws -> [CIMDClientRecord] {
        try await rows("SELECT body FROM cimd_clients ORDER BY last_fetched DESC, url DESC LIMIT \(limit)")
            .compactMap { try Self.body(CIMDClientRecord.self, $0) }
    }

    public func deleteCIMDClient(url: String) async throws -> Bool {
        try await !rows("DELETE FROM cimd_clients WHERE url = \(url) RETURNING url").isEmpty
    }

    public func purgeCIMDClients(lastFetchedBefore: Date) async throws -> Int {
        try await rows("DELETE FROM cimd_clients WHERE last_fetched < \(lastFetchedBefore.timeIntervalSince1970) RETURNING url").count
    }
}
