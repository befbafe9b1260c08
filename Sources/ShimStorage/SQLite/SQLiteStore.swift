import Foundation
public import Logging
import ShimCore
import Tracing

/// The embedded default store (`storage.url: sqlite://PATH`).
///
/// Durability: WAL with `synchronous=FULL`, so a response is sent only after
/// its write is on disk and a `kill -9` or power loss loses nothing that was
/// acknowledged. Writes go through `SQLiteWriter`, which commits concurrent
/// writes together (group commit: one fsync for a batch); reads run on their
/// own connections (`SQLiteReaders`) and never wait for a commit.
public final class SQLiteStore: ShimStore, Sendable {
    let writer: SQLiteWriter
    let readers: SQLiteReaders
    let refreshLocks = KeyedLock()
    /// Revocations committed through this store (`GrantLiveness`).
    public let revocations = RevocationFeed()

    /// One process owns a SQLite file, so an in-process lock is enough.
    public func withRefreshLock<T>(grantID: String, _ body: () async throws -> T) async throws -> T {
        try await refreshLocks.withLock(grantID, body)
    }

    private init(writer: SQLiteWriter, readers: SQLiteReaders) {
        self.writer = writer
        self.readers = readers
    }

    /// Opens (creating if needed) the database at `path` and migrates it.
    /// - Parameter synchronous: `full` (fsync every commit) or `normal` (WAL
    ///   default: durable across a process crash, not a power loss).
    /// - Parameter readers: connections for reads (each with its own thread).
    public static func open(path: String, synchronous: String = "full", readers: Int = 2, logger: Logger) async throws -> SQLiteStore {
        let writer = SQLiteWriter(db: try SQLiteDB(path: path))
        try await writer.exclusive { db in
            try db.execute("PRAGMA journal_mode=WAL")
            try db.execute(synchronous == "normal" ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL")
            try db.execute("BEGIN IMMEDIATE")
            do {
                for statement in Self.schema + Self.cimdSchema + Self.gatewaySessionSchema { try db.execute(statement) }
                try Self.addGrantExpiry(db)
                try Self.addClientOrigin(db)
                try db.execute("PRAGMA user_version = 6")
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
        return SQLiteStore(writer: writer, readers: try SQLiteReaders(path: path, count: max(1, readers)))
    }

    public func close() async throws {
        try await writer.close()
        try await readers.close()
    }

    /// How many writes the group commit carried in how many commits.
    public struct WriteStatistics: Sendable, Equatable, CustomStringConvertible {
        public var writes = 0
        public var commits = 0
        public var description: String { "\(writes) writes in \(commits) commits" }
    }

    /// Writes and commits since the store was opened (tests, diagnostics).
    public var writeStatistics: WriteStatistics { writer.statistics }

    /// Applied in one transaction on every start; each statement is idempotent.
    static let schema = [
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
        "CREATE INDEX IF NOT EXISTS consents_expiry ON consents (expires_at)",
        // ID-JAG `jti`s seen (AssertionReplayStore), kept until the assertion expires.
        "CREATE TABLE IF NOT EXISTS assertion_ids (key TEXT PRIMARY KEY, expires_at REAL NOT NULL)",
        // Version 2: the number of registrations, kept by triggers so that
        // `registration.max_clients` costs one row read, not COUNT(*).
        // Triggers also count rows written by other processes (admin commands).
        // Clients are never INSERT OR REPLACEd (REPLACE's delete fires no trigger).
        "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT OR IGNORE INTO counters (name, value) SELECT 'clients', count(*) FROM clients",
        """
        CREATE TRIGGER IF NOT EXISTS clients_counted_insert AFTER INSERT ON clients
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'clients'; END
        """,
        """
        CREATE TRIGGER IF NOT EXISTS clients_counted_delete AFTER DELETE ON clients
        BEGIN UPDATE counters SET value = value - 1 WHERE name = 'clients'; END
        """,
        // Version 3: pending consents are counted the same way (`authorization.max_pending`).
        "INSERT OR IGNORE INTO counters (name, value) SELECT 'pending_consents', count(*) FROM pending_consents",
        """
        CREATE TRIGGER IF NOT EXISTS pending_counted_insert AFTER INSERT ON pending_consents
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'pending_consents'; END
        """,
        """
        CREATE TRIGGER IF NOT EXISTS pending_counted_delete AFTER DELETE ON pending_consents
        BEGIN UPDATE counters SET value = value - 1 WHERE name = 'pending_consents'; END
        """,
    ]

    /// Version 4: grants carry `expires_at` as a column (housekeeping deletes
    /// expired grants by it); filled from the JSON body for existing rows.
    static func addGrantExpiry(_ db: SQLiteDB) throws {
        let columns = try db.query("PRAGMA table_info(grants)").compactMap { $0["name"]?.text }
        guard !columns.contains("expires_at") else { return }
        try db.execute("ALTER TABLE grants ADD COLUMN expires_at REAL")
        try db.execute("UPDATE grants SET expires_at = json_extract(body, '$.expiresAt') WHERE body IS NOT NULL")
        try db.execute("CREATE INDEX IF NOT EXISTS grants_expiry ON grants (expires_at)")
        try db.execute("CREATE INDEX IF NOT EXISTS grants_revoked ON grants (revoked_at) WHERE revoked_at IS NOT NULL")
    }

    /// Version 5: clients carry their `origin` as a column too (the clients
    /// installed from `ema.clients` are found by it at start). Rows written
    /// before are registered ones, except those the start-up installation of
    /// `ema.clients` wrote: its fixed name and no redirect URI, which no
    /// registration can have (RFC 7591 registrations need one).
    static func addClientOrigin(_ db: SQLiteDB) throws {
        let columns = try db.query("PRAGMA table_info(clients)").compactMap { $0["name"]?.text }
        guard !columns.contains("origin") else { return }
        try db.execute("ALTER TABLE clients ADD COLUMN origin TEXT NOT NULL DEFAULT 'registered'")
        try db.execute(
            """
            UPDATE clients SET origin = 'configured', body = json_set(body, '$.origin', 'configured')
            WHERE json_extract(body, '$.clientName') = '\(RegisteredClient.configuredClientName)' AND json_array_length(body, '$.redirectURIs') = 0
            """)
        try db.execute("CREATE INDEX IF NOT EXISTS clients_configured ON clients (id) WHERE origin = 'configured'")
    }

    /// A write, committed with whatever other writes are waiting (group
    /// commit). Traced as `store write` (its time includes the wait for the
    /// writer and the commit).
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteDB) throws -> T) async throws -> T {
        try await withSpan("store write", ofKind: .client) { span in
            span.attributes["db.system.name"] = "sqlite"
            return try await writer.write(body)
        }
    }

    /// A read on a reader connection; traced as `store read`.
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteDB) throws -> T) async throws -> T {
        try await withSpan("store read", ofKind: .client) { span in
            span.attributes["db.system.name"] = "sqlite"
            return try await readers.read(body)
        }
    }

    /// One statement as a write; returns its rows (`RETURNING`).
    func writeQuery(_ sql: String, _ binds: [SQLiteValue]) async throws -> [SQLiteRow] {
        try await write { try $0.query(sql, binds) }
    }

    /// One statement as a read.
    func readQuery(_ sql: String, _ binds: [SQLiteValue]) async throws -> [SQLiteRow] {
        try await read { try $0.query(sql, binds) }
    }
}

/// Records are stored as JSON bodies; dates as seconds since 1970.
enum RecordCoding {
    /// One encoder and decoder for the process (both are thread-safe once configured).
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    static func encode<T: Encodable>(_ value: T) throws -> SQLiteValue {
        .text(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ row: SQLiteRow?, column: String = "body") throws -> T? {
        guard let text = row?[column]?.text else { return nil }
        return try decoder.decode(type, from: Data(text.utf8))
    }

    static func time(_ date: Date) -> SQLiteValue { .double(date.timeIntervalSince1970) }
    static func date(_ value: SQLiteValue?) -> Date? { value?.double.map(Date.init(timeIntervalSince1970:)) }
}
