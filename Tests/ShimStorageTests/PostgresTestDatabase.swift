import Foundation
import Logging
import PostgresNIO
import ShimStorage

/// A throw-away database per test on the server named by
/// `DCR_SHIM_TEST_POSTGRES_URL` (`postgres://user[:password]@host:port/admin-db`,
/// a user allowed to CREATE DATABASE). Without the variable the PostgreSQL
/// cases of the conformance suite are not run.
enum PostgresTestDatabase {
    static let adminURL = ProcessInfo.processInfo.environment["DCR_SHIM_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    static func with<T: Sendable>(_ body: (PostgresStore) async throws -> T) async throws -> T {
        try await withDatabase { url in
            let store = try await PostgresStore.open(url: url, logger: StoreFixtures.quietLogger)
            defer { store.close() }
            return try await body(store)
        }
    }

    /// Creates a fresh database, hands its URL to `body`, and drops it afterwards.
    static func withDatabase<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        guard let adminURL, var components = URLComponents(string: adminURL) else { throw SetupError.noServer }
        let name = "dcr_shim_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await execute("CREATE DATABASE \(name)", url: components)
        components.path = "/" + name
        if components.queryItems == nil { components.queryItems = [URLQueryItem(name: "sslmode", value: "disable")] }
        do {
            let value = try await body(try urlString(components))
            try? await drop(name, adminURL: adminURL)
            return value
        } catch {
            try? await drop(name, adminURL: adminURL)
            throw error
        }
    }

    private static func drop(_ name: String, adminURL: String) async throws {
        guard let components = URLComponents(string: adminURL) else { return }
        try await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", url: components)
    }

    private static func execute(_ sql: String, url: URLComponents) async throws {
        guard let host = url.host, let user = url.user else { throw SetupError.badURL }
        let database = String(url.path.drop { $0 == "/" })
        let configuration = PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: user, password: url.password,
            database: database.isEmpty ? nil : database, tls: .disable)
        let client = PostgresClient(configuration: configuration, backgroundLogger: StoreFixtures.quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: StoreFixtures.quietLogger)
        }
    }

    private static func urlString(_ components: URLComponents) throws -> String {
        guard let url = components.string else { throw SetupError.badURL }
        return url
    }

    enum SetupError: Error { case noServer, badURL }
}
