import Foundation
import ShimCore
import Testing

@testable import ShimStorage

/// A client's `origin` (registered through RFC 7591, or installed from
/// `ema.clients`) survives the store on every backend, and the configured
/// ones are listed by it: a name proves nothing.
@Suite("Store conformance: client origin")
struct ClientOriginConformanceTests {
    typealias F = StoreFixtures

    static func configured(_ id: String) -> RegisteredClient {
        RegisteredClient(
            clientID: id, clientSecretHash: SecretToken.hash("secret-" + id), clientName: RegisteredClient.configuredClientName,
            clientURI: nil, redirectURIs: [], grantTypes: ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
            tokenEndpointAuthMethod: .clientSecretPost, scope: nil, createdAt: F.t0, origin: .configured)
    }

    @Test(
        "origin round trip: insertClient and registerClient keep it; configuredClients lists only configured ones, by id",
        arguments: StoreKind.available)
    func roundTrip(kind: StoreKind) async throws {
        try await kind.with { store async throws in
            try await store.insertClient(Self.configured("ema-b"))
            try await store.insertClient(Self.configured("ema-a"))
            try await store.markClientUsed(id: "ema-a", at: F.t0.addingTimeInterval(1))
            // A registration that calls itself what configured clients are called.
            var lookalike = F.client("dcr-1")
            lookalike.clientName = RegisteredClient.configuredClientName
            let audit = AuditEvent(at: F.t0, kind: .registration, clientID: "dcr-1")
            #expect(try await store.registerClient(lookalike, audit: audit, maxClients: 100))
            try await store.insertClient(F.client("dcr-2"))

            #expect(try await store.client(id: "ema-a")?.origin == .configured)
            #expect(try await store.client(id: "dcr-1")?.origin == .registered)
            #expect(try await store.client(id: "dcr-2") == F.client("dcr-2"))
            var expectedA = Self.configured("ema-a")
            expectedA.usedAt = F.t0.addingTimeInterval(1)
            #expect(try await store.configuredClients() == [expectedA, Self.configured("ema-b")])
            let listed = try await store.listClients(limit: 10)
            #expect(
                Set(listed.map { "\($0.clientID):\($0.origin.rawValue)" })
                    == ["ema-a:configured", "ema-b:configured", "dcr-1:registered", "dcr-2:registered"])
            #expect(try await store.deleteClient(id: "ema-b"))
            #expect(try await store.configuredClients().map(\.clientID) == ["ema-a"])
        }
    }

    @Test("a record stored before origin existed reads as registered")
    func legacyRecordDecodes() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        var object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(F.client())) as? [String: Any])
        #expect(object["origin"] as? String == "registered")
        object["origin"] = nil
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        #expect(try decoder.decode(RegisteredClient.self, from: JSONSerialization.data(withJSONObject: object)) == F.client())
    }

    /// A client row as a version-4 database held it: no origin, in the body or as a column.
    static func legacyBody(_ client: RegisteredClient) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        var object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(client)) as? [String: Any])
        object["origin"] = nil
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test("SQLite version 5: rows the ema.clients installation wrote become configured; registrations, whatever their name, stay registered")
    func sqliteMigration() async throws {
        let path = F.temporaryDatabasePath()
        defer { F.removeDatabase(at: path) }
        var installed = Self.configured("ema-old")
        installed.origin = .registered  // not stored before version 5
        var lookalike = F.client("dcr-1")
        lookalike.clientName = RegisteredClient.configuredClientName
        do {
            let db = try SQLiteDB(path: path)
            try db.execute("CREATE TABLE clients (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at REAL NOT NULL, used_at REAL)")
            for client in [installed, lookalike] {
                _ = try db.query(
                    "INSERT INTO clients (id, body, created_at) VALUES (?, ?, ?)",
                    [.text(client.clientID), .text(try Self.legacyBody(client)), .double(F.t0.timeIntervalSince1970)])
            }
            try db.execute("PRAGMA user_version = 4")
            db.close()
        }
        let store = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        #expect(try await store.configuredClients() == [Self.configured("ema-old")])
        #expect(try await store.client(id: "ema-old")?.origin == .configured)
        #expect(try await store.client(id: "dcr-1") == lookalike)
        #expect(try await store.countClients() == 2)
        try await store.close()
        // Opening again changes nothing.
        let again = try await SQLiteStore.open(path: path, logger: F.quietLogger)
        #expect(try await again.configuredClients().map(\.clientID) == ["ema-old"])
        try await again.close()
    }
}
