import Foundation
import Logging
import ShimCore
import ShimStorage
import Testing

/// The stores every conformance test runs against: MemoryStore and SQLiteStore
/// always, PostgresStore when `DCR_SHIM_TEST_POSTGRES_URL` names a server.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, sqlite, postgres

    var testDescription: String { rawValue }

    static var available: [StoreKind] {
        PostgresTestDatabase.adminURL == nil ? [.memory, .sqlite] : allCases
    }

    /// Runs `body` with a fresh, empty store; a SQLite store lives in its own
    /// temporary file, closed and deleted afterwards.
    func with<T: Sendable>(_ body: (any ShimStore) async throws -> T) async throws -> T {
        switch self {
        case .memory:
            return try await body(MemoryStore())
        case .sqlite:
            let path = StoreFixtures.temporaryDatabasePath()
            defer { StoreFixtures.removeDatabase(at: path) }
            let store = try await SQLiteStore.open(path: path, logger: StoreFixtures.quietLogger)
            do {
                let value = try await body(store)
                try await store.close()
                return value
            } catch {
                try? await store.close()
                throw error
            }
        case .postgres:
            return try await PostgresTestDatabase.with(body)
        }
    }
}

/// Records with fixed, whole-second dates (they survive the JSON round trip exactly).
enum StoreFixtures {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let quietLogger = Logger(label: "store-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func temporaryDatabasePath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dcr-shim-test-\(UUID().uuidString).db").path
    }

    static func removeDatabase(at path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    static func client(_ id: String = "client-1", createdAt: Date = t0) -> RegisteredClient {
        RegisteredClient(
            clientID: id, clientSecretHash: SecretToken.hash("secret-" + id), clientName: "Test \(id)",
            clientURI: nil, redirectURIs: ["https://app.example.com/cb"],
            grantTypes: ["authorization_code", "refresh_token"], tokenEndpointAuthMethod: .clientSecretBasic,
            scope: nil, createdAt: createdAt)
    }

    static func request(client: String = "client-1", redirect: String = "https://app.example.com/cb") -> AuthorizationRequest {
        AuthorizationRequest(
            clientID: client, redirectURI: redirect, state: "s-1", codeChallenge: String(repeating: "a", count: 43),
            resource: "https://mcp.example.com/mcp", scope: ScopeSet("mcp.read"),
            upstreamScope: ScopeSet("openid mcp.read"))
    }

    static func pending(browser: String = "browser-1") -> PendingConsent {
        PendingConsent(request: request(), browser: browser, createdAt: t0)
    }

    static func transaction(browser: String = "browser-1") -> UpstreamTransaction {
        UpstreamTransaction(
            request: request(), browser: browser, codeVerifier: String(repeating: "v", count: 64),
            nonce: "nonce-1", createdAt: t0)
    }

    static func upstream(_ tag: String = "1") -> SealedUpstreamTokens {
        SealedUpstreamTokens(
            accessToken: "sealed-at-" + tag, accessTokenExpiresAt: t0.addingTimeInterval(3600),
            refreshToken: "sealed-rt-" + tag, tokenType: "Bearer", scope: "mcp.read")
    }

    static func code(grantID: String = "grant-1", lifetime: TimeInterval = 300) -> AuthorizationCodeRecord {
        AuthorizationCodeRecord(
            grantID: grantID, request: request(), subject: "user-1", upstream: upstream(),
            expiresAt: t0.addingTimeInterval(lifetime))
    }

    static func grant(_ id: String = "grant-1", client: String = "client-1", createdAt: Date = t0) -> Grant {
        Grant(
            id: id, clientID: client, subject: "user-1", resource: "https://mcp.example.com/mcp",
            scope: ScopeSet("mcp.read"), upstreamScope: ScopeSet("openid mcp.read"), upstream: upstream(),
            createdAt: createdAt, expiresAt: t0.addingTimeInterval(30 * 86400))
    }

    static func refresh(grantID: String = "grant-1") -> RefreshTokenRecord {
        RefreshTokenRecord(grantID: grantID, clientID: "client-1", issuedAt: t0)
    }

    static func consent(
        browser: String = "browser-1", client: String = "client-1",
        redirect: String = "https://app.example.com/cb", scope: String = "mcp.read"
    ) -> ConsentRecord {
        ConsentRecord(
            browser: browser, clientID: client, redirectURI: redirect, scope: ScopeSet(scope),
            resource: "https://mcp.example.com/mcp", expiresAt: t0.addingTimeInterval(86400))
    }
}
