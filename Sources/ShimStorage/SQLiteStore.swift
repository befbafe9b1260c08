import Foundation
import ShimCore
import SQLiteNIO
public import Logging

/// The embedded default store (`storage.url: sqlite://PATH`).
///
/// Durability: WAL with `synchronous=FULL`, so a response is sent only after
/// its write is on disk and a `kill -9` or power loss loses nothing that was
/// acknowledged. One connection, one statement or transaction at a time.
public final class SQLiteStore: ShimStore, Sendable {
    let connection: SQLiteConnection
    let lock = AsyncSerialLock()
    let refreshLocks = KeyedLock()

    /// One process owns a SQLite file, so an in-process lock is enough.
    public func withRefreshLock<T>(grantID: String, _ body: () async throws -> T) async throws -> T {
        try await refreshLocks.withLock(grantID, body)
    }

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database at `path` and migrates it.
    /// - Parameter synchronous: `full` (fsync every commit) or `normal` (WAL
    ///   default: durable across a process crash, not a power loss).
    public static func open(path: String, synchronous: String = "full", logger: Logger) async throws -> SQLiteStore {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let store = SQLiteStore(connection: connection)
        try await store.migrate()
        _ = try await store.query(synchronous == "normal" ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", [])
        return store
    }

    public func close() async throws {
        try await connection.close()
    }

    static let schema = [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA busy_timeout=5000",
        "CREATE TABLE IF NOT EXISTS clients (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at REAL NOT NULL, used_at REAL)",
        "CREATE TABLE IF NOT EXISTS pending_consents (id TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS transactions (id TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at REAL NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS consents (browser TEXT NOT NULL, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
            body TEXT NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (browser, client_id, redirect_uri))
        """,
        "CREATE TABLE IF NOT EXISTS codes (hash TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS grants (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, body TEXT, revoked_at REAL)",
        """
        CREATE TABLE IF NOT EXISTS refresh_tokens (hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, body TEXT NOT NULL,
            rotated INTEGER NOT NULL DEFAULT 0)
        """,
        "CREATE INDEX IF NOT EXISTS refresh_tokens_grant ON refresh_tokens (grant_id)",
        "CREATE INDEX IF NOT EXISTS clients_unused ON clients (created_at) WHERE used_at IS NULL",
        "CREATE INDEX IF NOT EXISTS grants_client ON grants (client_id)",
        "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, kind TEXT NOT NULL, client_id TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS audit_at ON audit (at)",
        // ID-JAG `jti`s seen (AssertionReplayStore), kept until the assertion expires.
        "CREATE TABLE IF NOT EXISTS assertion_ids (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
        // Schema version 1; later migrations check and raise it.
        "PRAGMA user_version = 1",
    ]

    func migrate() async throws {
        try await lock.run {
            for statement in Self.schema + Self.cimdSchema { _ = try await self.connection.query(statement, []) }
        }
    }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT, rolling back on error.
    func transaction<T: Sendable>(_ body: @Sendable @escaping () async throws -> T) async throws -> T {
        try await lock.run {
            _ = try await self.connection.query("BEGIN IMMEDIATE", [])
            do {
                let value = try await body()
                _ = try await self.connection.query("COMMIT", [])
                return value
            } catch {
                _ = try? await self.connection.query("ROLLBACK", [])
                throw error
            }
        }
    }

    /// One statement, serialized with the transactions.
    func query(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteRow] {
        try await lock.run { try await self.connection.query(sql, binds) }
    }

    /// Inside `transaction` (the lock is held): query without taking it again.
    func queryLocked(_ sql: String, _ binds: [SQLiteData]) async throws -> [SQLiteRow] {
        try await connection.query(sql, binds)
    }
}

/// Records are stored as JSON bodies; dates as seconds since 1970.
enum RecordCoding {
    static func encode<T: Encodable>(_ value: T) throws -> SQLiteData {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return .text(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ row: SQLiteRow?, column: String = "body") throws -> T? {
        guard let text = row?.column(column)?.string else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: Data(text.utf8))
    }

    static func time(_ date: Date) -> SQLiteData { .float(date.timeIntervalSince1970) }
}
