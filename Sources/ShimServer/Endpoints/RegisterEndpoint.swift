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
struct RegisterEndpoint: Sendable {
    let store: any ClientStore
    /// Registrations per minute per client address.
    let limiter: AddressRateLimit
    let clock: any ShimClock
    let redirectPolicy: RedirectPolicy
    let resourcePolicy: ResourcePolicy
    /// Whether clients may register the jwt-bearer grant (ID-JAGs accepted).
    let acceptsAssertions: Bool
    let maxBodyBytes: Int
    /// `registration.max_clients`.
    let maxClients: Int
    /// `registration.unused_ttl`: registrations never used are purged after it.
    let unusedClientTTLSeconds: Int

    func handle(_ request: Request, _ context: ShimRequestContext) async throws -> Response {
        var request = request
        do {
            guard RequestParameters.hasMediaType(request, "application/json") else {
                throw OAuthError(.invalidClientMetadata, "Content-Type must be application/json")
            }
            let body = try await RequestParameters.body(&request, maxBytes: maxBodyBytes)
            try await checkRateLimit(context)
            let metadata = try ClientMetadata.parse(
                json: Data(body.readableBytesView), policy: redirectPolicy,
                scopes: resourcePolicy, assertionGrant: acceptsAssertions)
            let now = clock.now()
            let clientID = ClientInformation.newClientID(issuedAt: now)
            let secret = metadata.tokenEndpointAuthMethod == .none ? nil : SecretToken.generate()
            let client = RegisteredClient(
                clientID: clientID, clientSecretHash: secret.map(SecretToken.hash), clientName: metadata.clientName,
                clientURI: metadata.clientURI, redirectURIs: metadata.redirectURIs, grantTypes: metadata.grantTypes,
                tokenEndpointAuthMethod: metadata.tokenEndpointAuthMethod, scope: metadata.scope, createdAt: now,
                // Whatever it calls itself, a registered client is never taken for a configured one.
                origin: .registered)
            let event = AuditEvent(
                at: now, kind: .registration, clientID: clientID, clientName: metadata.clientName,
                redirectHost: metadata.redirectURIs.compactMap(Audit.host).joined(separator: ","), scope: metadata.scope)
            try await register(client, audit: event, context)
            Audit.announce(event, logger: context.logger)
            let information = ClientInformation(clientID: clientID, clientSecret: secret, clientIDIssuedAt: now, metadata: metadata)
            return try JSONResponse.make(encoded: information.jsonBody(), status: .created)
        } catch let error as OAuthError {
            throw OAuthJSONError(error: error)
        }
    }

    /// Abuse limit: registrations per minute per client address.
    func checkRateLimit(_ context: ShimRequestContext) async throws {
        if let wait = await limiter.attempt(context.clientKey, now: clock.now(), logger: context.logger) {
            context.logger.notice("registration rate limited", metadata: ["address": "\(context.clientKey)"])
            throw OAuthJSONError(
                error: OAuthError(
                    .temporarilyUnavailable, "too many registrations from this address; retry after \(wait) seconds",
                    status: 429), retryAfter: wait)
        }
    }

    /// Stores the registration and its audit row in one commit, within the
    /// cap on registrations (`registration.max_clients`, counted in O(1) by
    /// the store). At the cap, unused registrations past their TTL are purged
    /// once to make room.
    func register(_ client: RegisteredClient, audit: AuditEvent, _ context: ShimRequestContext) async throws {
        let cap = maxClients
        if try await store.registerClient(client, audit: audit, maxClients: cap) { return }
        try await store.purgeUnusedClients(createdBefore: clock.now().addingTimeInterval(-TimeInterval(unusedClientTTLSeconds)))
        if try await store.registerClient(client, audit: audit, maxClients: cap) { return }
        context.logger.warning("registration cap reached", metadata: ["max_clients": "\(cap)"])
        throw OAuthJSONError(
            error: OAuthError(
                .temporarilyUnavailable, "this server accepts no more registrations; contact its operator",
                status: 503))
    }
}
