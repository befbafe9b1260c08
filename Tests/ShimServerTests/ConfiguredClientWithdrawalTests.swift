import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimServer
import ShimStorage
import Testing

/// `ema.clients` entries are installed as clients at start; one removed from
/// the configuration is withdrawn at the next start (its secret stops
/// working, its grants are revoked). Configured clients are told by their
/// stored origin, never by the name a registering client may also choose.
@Suite("Configured clients: withdrawn when ema.clients no longer lists them")
struct ConfiguredClientWithdrawalTests {
    @Test("removed from ema.clients, then a restart on the same store: its secret is invalid_client at /token, its grants revoked, audited")
    func withdrawnAtRestart() async throws {
        let store: any ShimStore = MemoryStore()
        let before = try await EMAHarness(store: store)
        try await before.run { client async throws in
            let response = try await client.jwtBearer(try await before.idJAG())
            #expect(response.status == .ok, "\(response.text)")
        }
        let grants = try await store.listGrants(clientID: EMAHarness.client.id, limit: 10)
        #expect(grants.count == 1 && grants.allSatisfy { $0.revokedAt == nil })

        // The restart: new services on the same store, ema.clients without the client.
        let after = try await EMAHarness(store: store, withoutEMAClient: true)
        #expect(try await after.harness.services.installConfiguredClients() == [EMAHarness.client.id])
        #expect(try await store.client(id: EMAHarness.client.id) == nil)
        let revoked = try await store.listGrants(clientID: EMAHarness.client.id, limit: 10)
        #expect(revoked.count == 1 && revoked.allSatisfy { $0.revokedAt != nil })
        let audit = try await store.auditEvents(since: nil, limit: 100).filter { $0.kind == .clientRevoked }
        #expect(audit.map(\.clientID) == [EMAHarness.client.id] && audit.first?.detail?.contains("ema.clients") == true)
        // The client still listed is left as it was.
        #expect(try await store.client(id: EMAHarness.app.id)?.origin == .configured)
        try await after.harness.run { client async throws in
            let response = try await client.jwtBearer(try await after.idJAG())
            #expect(response.oauthError == "invalid_client", "\(response.status): \(response.text)")
            #expect(response.json["access_token"] == nil)
        }
        // Another start withdraws nothing more.
        #expect(try await after.harness.services.installConfiguredClients().isEmpty)
    }

    @Test("a registration named like a configured client is a registered client: never withdrawn, never replaced")
    func lookalikeRegistrationIsNotConfigured() async throws {
        let store: any ShimStore = MemoryStore()
        let ema = try await EMAHarness(store: store, withoutEMAClient: true)
        let app = try await ema.harness.run { client async throws in
            try await client.register(name: RegisteredClient.configuredClientName)
        }
        let registered = try #require(try await store.client(id: app.clientID))
        #expect(registered.origin == .registered && registered.clientName == RegisteredClient.configuredClientName)
        #expect(try await ema.harness.services.installConfiguredClients().isEmpty)
        #expect(try await store.client(id: app.clientID) == registered)
        #expect(try await store.configuredClients().map(\.clientID) == [EMAHarness.app.id])
    }
}
