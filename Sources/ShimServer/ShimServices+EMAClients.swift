import Foundation
import ShimCore
import ShimStorage

extension ShimServices {
    /// The grant types a configured `ema.clients` entry may use.
    var emaClientGrantTypes: [String] {
        token.supportedGrantTypes.filter { $0 == .jwtBearer || $0 == .tokenExchange }.map(\.rawValue)
    }

    /// Makes every `ema.clients` entry a registered client (confidential,
    /// its secret stored as a hash, no redirect URI, only the EMA grants,
    /// `origin` configured), so /token authenticates it like any other
    /// client. Run at start by every replica: a client already there as
    /// configured is left alone, one whose secret or method changed is
    /// replaced, and each is marked used so the unused-registration expiry
    /// never removes it.
    ///
    /// Then every configured client the configuration no longer lists is
    /// withdrawn: its grants revoked, its registration deleted (so its
    /// secret stops authenticating), an audit event written. Configured
    /// clients are told by their stored `origin`, which only this function
    /// sets; a registration that calls itself the same name is untouched.
    /// During a rolling change, a replica still running the old
    /// configuration installs the client again at its next start.
    /// - Returns: the ids withdrawn.
    @discardableResult
    public func installConfiguredClients() async throws -> [String] {
        for configured in config.ema.clients {
            let method: RegisteredClient.AuthMethod = configured.authMethod == "client_secret_basic" ? .clientSecretBasic : .clientSecretPost
            let client = RegisteredClient(
                clientID: configured.id, clientSecretHash: SecretToken.hash(configured.secret), clientName: RegisteredClient.configuredClientName,
                clientURI: nil, redirectURIs: [], grantTypes: emaClientGrantTypes, tokenEndpointAuthMethod: method, scope: nil, createdAt: now,
                origin: .configured)
            if let existing = try await store.client(id: configured.id) {
                let same =
                    existing.clientSecretHash == client.clientSecretHash && existing.tokenEndpointAuthMethod == method
                    && existing.grantTypes == client.grantTypes && existing.redirectURIs.isEmpty && existing.origin == .configured
                if same { continue }
                _ = try await store.deleteClient(id: configured.id)
            }
            do { try await store.insertClient(client) } catch {
                // Another replica starting at the same moment inserted it first.
                guard let stored = try await store.client(id: configured.id), stored.clientSecretHash == client.clientSecretHash,
                    stored.origin == .configured
                else { throw error }
            }
            try await store.markClientUsed(id: configured.id, at: now)
        }
        return try await withdrawUnlistedConfiguredClients()
    }

    /// Withdraws every stored configured client that `ema.clients` does not
    /// list: grants revoked first (so that a start interrupted in between
    /// finds the client again next time), then the registration deleted.
    func withdrawUnlistedConfiguredClients() async throws -> [String] {
        let listed = Set(config.ema.clients.map(\.id))
        var withdrawn: [String] = []
        for client in try await store.configuredClients() where !listed.contains(client.clientID) {
            // Only configured ones: `configuredClients` reads the stored origin; checked again here.
            guard client.origin == .configured else { continue }
            let at = now
            let revoked = try await store.revokeGrants(clientID: client.clientID, at: at)
            _ = try await store.deleteClient(id: client.clientID)
            try await store.appendAudit(
                AuditEvent(
                    at: at, kind: .clientRevoked, clientID: client.clientID, clientName: client.clientName,
                    detail: "no longer in ema.clients: registration deleted, \(revoked) grants revoked"))
            withdrawn.append(client.clientID)
        }
        return withdrawn
    }
}
