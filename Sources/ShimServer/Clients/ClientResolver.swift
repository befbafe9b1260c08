import Foundation
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// The client behind a `client_id`: a registration (RFC 7591), or a Client
/// ID Metadata Document fetched through the guarded fetcher. Either way
/// /authorize, /consent, /callback, /token and /revoke see a
/// `RegisteredClient`; a document's client is public (`none`, PKCE) and has
/// no registration row (the store keeps a `CIMDClientRecord` for the admin
/// commands and the audit trail, written only when the document is fetched
/// over the network).
struct ResolvedClient: Sendable {
    var client: RegisteredClient
    /// The validated document, for a CIMD client.
    var document: CIMDDocument?

    var isCIMD: Bool { document != nil }
}

/// Finds the client behind a `client_id`, for every endpoint that takes one.
struct ClientResolver: Sendable {
    let store: any ClientStore & CIMDClientStore
    let clock: any ShimClock
    /// `registration.unused_ttl`: a registration never used expires.
    let unusedClientTTLSeconds: Int
    /// Fetches Client ID Metadata Documents (`GuardedFetcher` in production);
    /// nil turns CIMD off whatever `cimd.enabled` says.
    let documentFetcher: (any DocumentFetching)?
    /// `cimd.*` as a policy: enabled, allowed and blocked hosts.
    let cimdPolicy: CIMDPolicy
    /// Validated documents, so a cached fetch is not validated again per request.
    let parsedDocuments: ParsedDocumentCache
    let allowlist: RedirectAllowlist
    let resourcePolicy: ResourcePolicy
    let auditor: Auditor

    /// A registered client that has not expired unused (`registration.unused_ttl`).
    func liveClient(id: String) async throws -> RegisteredClient? {
        guard let client = try await store.client(id: id), !client.isExpired(now: clock.now(), unusedTTL: unusedClientTTLSeconds) else {
            return nil
        }
        return client
    }

    /// nil for an unknown (or expired) registered client. A CIMD client whose
    /// document cannot be used throws `OAuthError` `invalid_client` (400) with
    /// the reason; a store failure throws what the store threw.
    /// `clientAddress` (the requester's `IPAddress.limitKey`) counts a
    /// document fetch against that address's limit of fetches in flight.
    func resolve(id: String, clientAddress: String? = nil, logger: Logger) async throws -> ResolvedClient? {
        guard CIMDClientID.isCandidate(id) else {
            return try await liveClient(id: id).map { ResolvedClient(client: $0, document: nil) }
        }
        let clientID = try CIMDClientID(validating: id)
        try cimdPolicy.check(clientID)
        guard let documentFetcher else { throw OAuthError(.invalidClient, "Client ID Metadata Documents are not accepted here", status: 400) }
        let fetched: GuardedFetcher.Document
        do {
            fetched = try await documentFetcher.fetch(clientID.url, clientAddress: clientAddress)
        } catch {
            // The reason goes to the log only: told to the caller, it would say
            // which address a name has and how a port answers (a map of the
            // shim's network). A passing failure is not the client's fault:
            // invalid_client would make SDKs drop their credentials.
            let detail = "cimd fetch \(clientID.url): \(error)"
            if error.isTransient {
                throw OAuthError(
                    .temporarilyUnavailable,
                    "the application's metadata document at \(clientID.host) could not be fetched just now; "
                        + "try again", detail: detail, status: 503)
            }
            throw OAuthError(.invalidClient, "the application's metadata document at \(clientID.host) cannot be used", detail: detail, status: 400)
        }
        let document: CIMDDocument
        if let parsed = parsedDocuments.document(url: clientID.url, body: fetched.body) {
            document = parsed
        } else {
            do {
                document = try CIMDDocument.parse(
                    fetched.body, clientID: clientID, allowlist: allowlist,
                    scopes: resourcePolicy)
            } catch {
                logger.notice("cimd document refused", metadata: ["client_id": "\(clientID.url)", "reason": "\(error.description)"])
                throw error
            }
            parsedDocuments.store(document, body: fetched.body)
        }
        var firstSeen = fetched.fetchedAt
        if !fetched.fromCache {
            firstSeen = try await remember(document, fetchedAt: fetched.fetchedAt, logger: logger)
        }
        return ResolvedClient(client: document.client(firstSeen: firstSeen), document: document)
    }

    /// Records a freshly fetched document; audits a new client or a changed
    /// document (`client_document`). Returns when the client was first seen.
    private func remember(_ document: CIMDDocument, fetchedAt: Date, logger: Logger) async throws -> Date {
        let record = CIMDClientRecord(
            url: document.clientID.url, host: document.clientID.host, clientName: document.metadata.clientName,
            redirectURIs: document.metadata.redirectURIs, documentHash: document.documentHash,
            firstSeen: fetchedAt, lastFetched: fetchedAt)
        let previous = try await store.recordCIMDClient(record)
        if previous?.documentHash != document.documentHash {
            let what = previous == nil ? "first fetch" : "document changed (was \(previous!.documentHash.prefix(8)))"
            await auditor.record(
                AuditEvent(
                    at: fetchedAt, kind: .clientDocument, clientID: record.url, clientName: record.clientName,
                    redirectHost: record.redirectURIs.compactMap(Audit.host).joined(separator: ","),
                    detail: "\(what); host \(record.host); hash \(document.documentHash.prefix(8))"),
                logger: logger)
        }
        return previous?.firstSeen ?? fetchedAt
    }
}
