public import Foundation
public import ShimCore

extension SQLiteStore {
    /// The table of clients known by their metadata document (created with the rest of the schema).
    static let cimdSchema = [
        """
        CREATE TABLE IF NOT EXISTS cimd_clients (url TEXT PRIMARY KEY, host TEXT NOT NULL, body TEXT NOT NULL,
            first_seen REAL NOT NULL, last_fetched REAL NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS cimd_clients_fetched ON cimd_clients (last_fetched)",
    ]

    /// The read of the previous record and the write are one write of the batch.
    public func recordCIMDClient(_ record: CIMDClientRecord) async throws -> CIMDClientRecord? {
        try await write { db in
            let rows = try db.query("SELECT body FROM cimd_clients WHERE url = ?", [.text(record.url)])
            let previous = try RecordCoding.decode(CIMDClientRecord.self, rows.first)
            var record = record
            if let previous { record.firstSeen = min(previous.firstSeen, record.firstSeen) }
            try db.query(
                "INSERT OR REPLACE INTO cimd_clients (url, host, body, first_seen, last_fetched) VALUES (?, ?, ?, ?, ?)",
                [
                    .text(record.url), .text(record.host), try RecordCoding.encode(record), RecordCoding.time(record.firstSeen),
                    RecordCoding.time(record.lastFetched),
                ])
            return previous
        }
    }

    public func cimdClient(url: String) async throws -> CIMDClientRecord? {
        try RecordCoding.decode(CIMDClientRecord.self, try await readQuery("SELECT body FROM cimd_clients WHERE url = ?", [.text(url)]).first)
    }

    public func listCIMDClients(limit: Int) async throws -> [CIMDClientRecord] {
        try await readQuery("SELECT body FROM cimd_clients ORDER BY last_fetched DESC, url DESC LIMIT ?", [.integer(Int64(limit))])
            .compactMap { try RecordCoding.decode(CIMDClientRecord.self, $0) }
    }

    public func deleteCIMDClient(url: String) async throws -> Bool {
        try await !writeQuery("DELETE FROM cimd_clients WHERE url = ? RETURNING url", [.text(url)]).isEmpty
    }

    public func purgeCIMDClients(lastFetchedBefore: Date) async throws -> Int {
        try await writeQuery("DELETE FROM cimd_clients WHERE last_fetched < ? RETURNING url", [RecordCoding.time(lastFetchedBefore)]).count
    }
}
