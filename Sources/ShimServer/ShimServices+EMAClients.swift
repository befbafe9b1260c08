import Foundation
import ShimCore
import ShimStorage

extension ShimServices {
    /// The grant types a configured `ema.clients` entry may use.
    var emaClientGrantTypes: [String] {
        tokenEndpoint.supportedGrantTypes.filter { $0 == .jwtBearer || $0 == .tokenExchange }.map(\.rawValue)
    }

    /// Makes every `ema.clients` entry a registered client (confidential,
    /// its secret stored as a hash, no redirect URI, only the EMA grants),
    /// so /token authenticates it like any other client. Run at start by
    /// every replica: a client already there as configured is left alone,
    /// one whose secret or method changed is replaced, and each is marked
    /// used so the unused-registration expiry never removes it.
    public func installConfiguredClients() async throws {
        for configured in config.ema.clients {
            let method: RegisteredClient.AuthMethod = configured.authMethod == "client_secret_basic" ? .clientSecretBasic : .clientSecretPost
            let client = RegisteredClient(
                clientID: configured.id, clientSecretHash: SecretToken.hash(configured.secret), clientName: "configured client (ema.clients)",
                clientURI: nil, redirectURIs: [], grantTypes: emaClientGrantTypes, tokenEndpointAuthMethod: method, scope: nil, createdAt: now)
            if let existing = try await store.client(id: configured.id) {
                let same = existing.clientSecretHash == client.clientSecretHash && existing.tokenEndpointAuthMethod == method
                    && existing.grantTypes == client.grantTypes && existing.redirectURIs.isEmpty
                if same { continue }
                _ = try await store.deleteClient(id: configured.id)
            }
            do { try await store.insertClient(client) } catch {
                // Another replica starting at the same moment inserted it first.
                guard try await store.client(id: configured.id)?.clientSecretHash == client.clientSecretHash else { throw error }
            }
            try await store.markClientUsed(id: configured.id, at: now)
        }
    }
}
