import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// RFC 7591 dynamic client registration. Each client gets a shim-issued
/// client_id (never the IdP's) and, unless it registers as a public client
/// (`none`), a client secret that is stored only as a hash.
enum RegisterEndpoint {
    static func handle(_ request: Request, _ context: ShimRequestContext, _ services: ShimServices) async throws -> Response {
        var request = request
        do {
            guard RequestParameters.hasMediaType(request, "application/json") else {
                throw OAuthError(.invalidClientMetadata, "Content-Type must be application/json")
            }
            let body = try await RequestParameters.body(&request, maxBytes: services.config.maxBodyBytes)
            try await checkRateLimit(context, services)
            let metadata = try ClientMetadata.parse(json: Data(body.readableBytesView), policy: services.redirectPolicy,
                                                    scopes: services.resourcePolicy, assertionGrant: services.config.ema.acceptsAssertions)
            let now = services.now
            let clientID = ClientInformation.newClientID(issuedAt: now)
            let secret = metadata.tokenEndpointAuthMethod == .none ? nil : SecretToken.generate()
            let client = RegisteredClient(
                clientID: clientID, clientSecretHash: secret.map(SecretToken.hash), clientName: metadata.clientName,
                clientURI: metadata.clientURI, redirectURIs: metadata.redirectURIs, grantTypes: metadata.grantTypes,
                tokenEndpointAuthMethod: metadata.tokenEndpointAuthMethod, scope: metadata.scope, createdAt: now,
                // Whatever it calls itself, a registered client is never taken for a configured one.
                origin: .registered)
            let event = AuditEvent(at: now, kind: .registration, clientID: clientID, clientName: metadata.clientName,
                                   redirectHost: metadata.redirectURIs.compactMap(Audit.host).joined(separator: ","), scope: metadata.scope)
            try await store(client, audit: event, context, services)
            Audit.announce(event, logger: context.logger)
            let information = ClientInformation(clientID: clientID, clientSecret: secret, clientIDIssuedAt: now, metadata: metadata)
            return try JSONResponse.make(encoded: information.jsonBody(), status: .created)
        } catch let error as OAuthError {
            throw OAuthJSONError(error: error)
        }
    }

    /// Abuse limit: registrations per minute per client address.
    static func checkRateLimit(_ context: ShimRequestContext, _ services: ShimServices) async throws {
        if let wait = await services.registrationLimiter.attempt(context.clientKey, now: services.now, logger: context.logger) {
            context.logger.notice("registration rate limited", metadata: ["address": "\(context.clientKey)"])
            throw OAuthJSONError(error: OAuthError(.temporarilyUnavailable, "too many registrations from this address; retry after \(wait) seconds",
                                                   status: 429), retryAfter: wait)
        }
    }

    /// Stores the registration and its audit row in one commit, within the
    /// cap on registrations (`registration.max_clients`, counted in O(1) by
    /// the store). At the cap, unused registrations past their TTL are purged
    /// once to make room.
    static func store(_ client: RegisteredClient, audit: AuditEvent, _ context: ShimRequestContext, _ services: ShimServices) async throws {
        let store = services.store, cap = services.config.maxClients
        if try await store.registerClient(client, audit: audit, maxClients: cap) { return }
        try await store.purgeUnusedClients(createdBefore: services.now.addingTimeInterval(-TimeInterval(services.config.unusedClientTTLSeconds)))
        if try await store.registerClient(client, audit: audit, maxClients: cap) { return }
        context.logger.warning("registration cap reached", metadata: ["max_clients": "\(cap)"])
        throw OAuthJSONError(error: OAuthError(.temporarilyUnavailable, "this server accepts no more registrations; contact its operator",
                                               status: 503))
    }
}
