import Foundation
public import Logging
import PostgresNIO
import ShimCore
import Tracing

/// The store for replicas (`storage.url: postgres://user:pass@host:port/db`).
///
/// Every single-use rule is enforced in SQL, never in process memory:
/// `DELETE … RETURNING` consumes transactions, `UPDATE … WHERE used = 0
/// RETURNING` redeems codes, refresh rotation is a row-locked transaction,
/// and a refresh of one grant holds a lease row so that two replicas never
/// refresh the same upstream token at once. No request holds a pooled
/// connection while it waits for another (rule 10). The schema is
/// created and migrated on start.
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    let refreshLocks = KeyedLock()
    /// Revocations committed through this store (`GrantLiveness`).
    public let revocations = RevocationFeed()
    /// How long a refresh lease lives without renewal; a replica that dies
    /// holding one blocks that grant's refresh for at most this long.
    let leaseSeconds: Double

    private init(client: PostgresClient, logger: Logger, leaseSeconds: Double) {
        self.client = client
        self.logger = logger
        self.leaseSeconds = leaseSeconds
        runner = Task { await client.run() }
    }

    /// Connects (the client runs in the background) and migrates the schema.
    /// - Parameter refreshLeaseSeconds: lifetime of a refresh lease between
    ///   renewals (renewed every third of it while the refresh runs).
    public static func open(url: String, logger: Logger, refreshLeaseSeconds: Double = 30) async throws -> PostgresStore {
        let store = PostgresStore(
            client: PostgresClient(configuration: try configuration(url), backgroundLogger: logger), logger: logger,
            leaseSeconds: refreshLeaseSeconds)
        try await store.migrate()
        return store
    }

    public func close() {
        runner.cancel()
    }

    /// `postgres://user:password@host:port/database[?sslmode=disable|prefer|require]`.
    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, let user = components.user
        else {
            throw StoreError.badURL
        }
        let database = String(components.path.drop { $0 == "/" })
        // Default `require` (plaintext to another machine only when asked for
        // by name), `prefer` on loopback (configuration hygiene). `require`
        // verifies the certificate and host name (like libpq's verify-full).
        guard let mode = StorageURL.sslMode(url) else { throw StoreError.badSSLMode }
        let tls: PostgresClient.Configuration.TLS =
            switch mode {
            case .disable: .disable
            case .require: .require(.makeClientConfiguration())
            case .prefer: .prefer(.makeClientConfiguration())
            }
        var config = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user,
            password: components.password?.removingPercentEncoding, database: database.isEmpty ? nil : database, tls: tls)
        // 10 for requests, and the one the revocation listener holds for the server's life.
        config.options.maximumConnections = 11
        return config
    }

    static let migrations: [String] = [
        "CREATE TABLE IF NOT EXISTS clients (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, used_at DOUBLE PRECISION)",
        "CREATE TABLE IF NOT EXISTS pending_consents (id TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE IF NOT EXISTS transactions (id TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS consents (browser TEXT NOT NULL, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
            body TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (browser, client_id, redirect_uri))
        """,
        "CREATE TABLE IF NOT EXISTS codes (hash TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL, used INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS grants (id TEXT PRIMARY KEY, client_id TEXT NOT NULL, body TEXT, revoked_at DOUBLE PRECISION, seq BIGSERIAL)",
        "CREATE TABLE IF NOT EXISTS refresh_tokens (hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, body TEXT NOT NULL, rotated INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX IF NOT EXISTS refresh_tokens_grant ON refresh_tokens (grant_id)",
        "CREATE INDEX IF NOT EXISTS grants_client ON grants (client_id)",
        "CREATE TABLE IF NOT EXISTS audit (seq BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, kind TEXT NOT NULL, client_id TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS audit_at ON audit (at)",
        // ID-JAG `jti`s seen (AssertionReplayStore), kept until the assertion expires.
        "CREATE TABLE IF NOT EXISTS assertion_ids (key TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)",
        // Row counts for the caps (`registration.max_clients`,
        // `authorization.max_pending`), kept by a trigger in 16 shards per
        // table (a row each, chosen by the id's hash) so concurrent inserts on
        // several replicas rarely wait on one row lock, and a cap costs a
        // 16-row sum instead of COUNT(*). Seeded once from the
        // tables, under a lock that holds off writers meanwhile.
        "CREATE TABLE IF NOT EXISTS row_counts (name TEXT NOT NULL, shard INTEGER NOT NULL, value BIGINT NOT NULL, PRIMARY KEY (name, shard))",
        "LOCK TABLE clients, pending_consents IN SHARE ROW EXCLUSIVE MODE",
        """
        INSERT INTO row_counts (name, shard, value)
        SELECT t.name, s, CASE WHEN s = 0 THEN t.n ELSE 0 END
        FROM (VALUES ('clients', (SELECT count(*) FROM clients)), ('pending_consents', (SELECT count(*) FROM pending_consents))) AS t (name, n),
             generate_series(0, 15) AS s
        WHERE NOT EXISTS (SELECT 1 FROM row_counts r WHERE r.name = t.name)
        """,
        """
        CREATE OR REPLACE FUNCTION dcr_shim_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                UPDATE row_counts SET value = value + 1 WHERE name = TG_TABLE_NAME AND shard = hashtext(NEW.id) & 15;
            ELSE
                UPDATE row_counts SET value = value - 1 WHERE name = TG_TABLE_NAME AND shard = hashtext(OLD.id) & 15;
            END IF;
            RETURN NULL;
        END $$
        """,
        "CREATE OR REPLACE TRIGGER clients_counted AFTER INSERT OR DELETE ON clients FOR EACH ROW EXECUTE FUNCTION dcr_shim_count_rows()",
        """
        CREATE OR REPLACE TRIGGER pending_consents_counted AFTER INSERT OR DELETE ON pending_consents
        FOR EACH ROW EXECUTE FUNCTION dcr_shim_count_rows()
        """,
        // Grants carry their expiry as a column: housekeeping deletes by it (bounded stored rows).
        "ALTER TABLE grants ADD COLUMN IF NOT EXISTS expires_at DOUBLE PRECISION",
        "UPDATE grants SET expires_at = (body::json->>'expiresAt')::double precision WHERE expires_at IS NULL AND body IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS grants_expiry ON grants (expires_at)",
        "CREATE INDEX IF NOT EXISTS grants_revoked ON grants (revoked_at) WHERE revoked_at IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS consents_expiry ON consents (expires_at)",
        // Fixed-window rate limits per client address, shared by replicas.
        "CREATE TABLE IF NOT EXISTS rate_windows (key TEXT PRIMARY KEY, window_start DOUBLE PRECISION NOT NULL, count INTEGER NOT NULL)",
        // Refresh leases (see PostgresStore+RefreshLease.swift); times are the database's clock.
        "CREATE TABLE IF NOT EXISTS refresh_leases (grant_id TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
        // Clients carry their `origin` as a column too (the clients installed
        // from `ema.clients` are found by it at start). When the column is
        // added, rows written before are registered ones, except those the
        // start-up installation of `ema.clients` wrote: its fixed name and no
        // redirect URI, which no registration can have.
        """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                           WHERE table_schema = current_schema() AND table_name = 'clients' AND column_name = 'origin') THEN
                ALTER TABLE clients ADD COLUMN origin TEXT NOT NULL DEFAULT 'registered';
                UPDATE clients SET origin = 'configured', body = jsonb_set(body::jsonb, '{origin}', '"configured"')::text
                WHERE body::jsonb->>'clientName' = '\(RegisteredClient.configuredClientName)'
                    AND jsonb_array_length(body::jsonb->'redirectURIs') = 0;
            END IF;
        END $$
        """,
        "CREATE INDEX IF NOT EXISTS clients_configured ON clients (id) WHERE origin = 'configured'",
    ]

    /// Replicas starting together migrate one at a time (advisory lock).
    func migrate() async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(424242)", logger: logger)
            for statement in Self.migrations + Self.cimdMigrations + Self.gatewaySessionMigrations {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await withSpan("store query", ofKind: .client) { span in
            span.attributes["db.system.name"] = "postgresql"
            return try await client.query(query, logger: logger).collect()
        }
    }

    /// One transaction on a pooled connection; traced as `store transaction`.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> sending T) async throws -> T {
        let span = InstrumentationSystem.tracer.startSpan("store transaction", ofKind: .client)
        span.attributes["db.system.name"] = "postgresql"
        defer { span.end() }
        do {
            return try await ServiceContext.$current.withValue(span.context) {
                try await client.withTransaction(logger: logger, body)
            }
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: Data(text.utf8))
    }

    static func body<T: Decodable>(_ type: T.Type, _ row: PostgresRow?) throws -> T? {
        guard let row else { return nil }
        return try decode(type, try row.decode(String?.self))
    }

    public enum StoreError: Error, CustomStringConvertible {
        case badURL, badSSLMode
        public var description: String {
            switch self {
            case .badURL: "storage.url is not postgres://user:password@host:port/database"
            case .badSSLMode: "storage.url: sslmode must be disable, prefer or require"
            }
        }
    }
}
