import Foundation
import NIOConcurrencyHelpers
public import Logging
public import ShimCore
import ShimStorage
public import ShimUpstream

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

extension ShimServices {
    /// nil for an unknown (or expired) registered client. A CIMD client whose
    /// document cannot be used throws `OAuthError` `invalid_client` (400) with
    /// the reason; a store failure throws what the store threw.
    func resolveClient(id: String, logger: Logger) async throws -> ResolvedClient? {
        guard CIMDClientID.isCandidate(id) else {
            return try await liveClient(id: id).map { ResolvedClient(client: $0, document: nil) }
        }
        let clientID = try CIMDClientID(validating: id)
        try cimdPolicy.check(clientID)
        guard let documentFetcher else { throw OAuthError(.invalidClient, "Client ID Metadata Documents are not accepted here", status: 400) }
        let fetched: GuardedFetcher.Document
        do {
            fetched = try await documentFetcher.fetch(clientID.url)
        } catch {
            throw OAuthError(.invalidClient, "the application's metadata document at \(clientID.host) could not be fetched: \(error)",
                             detail: "cimd fetch \(clientID.url): \(error)", status: 400)
        }
        let document: CIMDDocument
        if let parsed = parsedDocuments.document(url: clientID.url, body: fetched.body) {
            document = parsed
        } else {
            do {
                document = try CIMDDocument.parse(fetched.body, clientID: clientID, allowlist: redirectPolicy.allowlist,
                                                  allowedScopes: supportedScopes)
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
        let record = CIMDClientRecord(url: document.clientID.url, host: document.clientID.host, clientName: document.metadata.clientName,
                                      redirectURIs: document.metadata.redirectURIs, documentHash: document.documentHash,
                                      firstSeen: fetchedAt, lastFetched: fetchedAt)
        let previous = try await store.recordCIMDClient(record)
        if previous?.documentHash != document.documentHash {
            let what = previous == nil ? "first fetch" : "document changed (was \(previous!.documentHash.prefix(8)))"
            await Audit.record(AuditEvent(at: fetchedAt, kind: .clientDocument, clientID: record.url, clientName: record.clientName,
                                          redirectHost: record.redirectURIs.compactMap(Audit.host).joined(separator: ","),
                                          detail: "\(what); host \(record.host); hash \(document.documentHash.prefix(8))"),
                               services: self, logger: logger)
        }
        return previous?.firstSeen ?? fetchedAt
    }
}

/// Builds the fetcher for Client ID Metadata Documents from `cimd.*`: the
/// draft's 5 KB, `cimd.fetch_timeout`, `cimd.cache_min`/`cache_max` (10
/// minutes without a Cache-Control), 10 s of negative caching, two fetches
/// per host and 32 in all at once, 4096 cached documents.
public enum CIMDFetching {
    public static func makeFetcher(_ config: CIMDConfiguration, logger: Logger) throws -> GuardedFetcher {
        let policy = config.policy
        let limits = GuardedFetcher.Limits(
            maxBytes: CIMDConfiguration.maxDocumentBytes, timeout: .seconds(config.fetchTimeoutSeconds),
            cacheFloor: config.cacheMinSeconds, cacheCeiling: config.cacheMaxSeconds, cacheFallback: 600, negativeTTL: 10,
            maxConcurrentPerHost: 2, maxConcurrentTotal: 32, cacheCapacity: 4096)
        do {
            return try GuardedFetcher(purpose: "cimd", limits: limits, logger: logger, extraTrustRootsPEM: config.insecureCAPEM,
                                      trustsPrivateAddresses: { policy.trustsPrivateAddresses(of: $0) })
        } catch {
            throw CIMDSetupError(description: "cimd.insecure_ca: the PEM certificates cannot be read (\(error))")
        }
    }

    public struct CIMDSetupError: Error, CustomStringConvertible {
        public let description: String
    }
}

/// Validated documents by URL, for the exact bytes they were validated
/// from: a cached fetch is not parsed and validated again on every request,
/// and a changed document never reuses an old validation. Bounded; when
/// full, it starts over (each entry is cheap to rebuild).
final class ParsedDocumentCache: Sendable {
    private let entries = NIOLockedValueBox<[String: (body: Data, document: CIMDDocument)]>([:])
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func document(url: String, body: Data) -> CIMDDocument? {
        entries.withLockedValue { table in
            guard let entry = table[url], entry.body == body else { return nil }
            return entry.document
        }
    }

    func store(_ document: CIMDDocument, body: Data) {
        entries.withLockedValue { table in
            if table.count >= capacity, table[document.clientID.url] == nil { table.removeAll(keepingCapacity: true) }
            table[document.clientID.url] = (body, document)
        }
    }
}
