public import Foundation
public import ShimCore

extension GuardedFetcher {
    /// What one kind of fetch may cost. Callers choose: CIMD documents take
    /// the 5 KB of the draft; JWKS with certificate chains need more.
    public struct Limits: Sendable {
        /// A body longer than this is refused (read as a stream, never whole).
        public var maxBytes: Int
        /// The whole fetch: resolution, connection, TLS, head and body.
        public var timeout: Duration
        /// Reuse bounds (seconds) for a successful response: its
        /// `Cache-Control: max-age` clamped to `[cacheFloor, cacheCeiling]`,
        /// `cacheFallback` without one, the floor for `no-store`/`no-cache`.
        public var cacheFloor: Int
        public var cacheCeiling: Int
        public var cacheFallback: Int
        /// How long a failure is remembered before the URL is tried again.
        public var negativeTTL: Int
        /// Fetches in flight to one host at once; more fail fast (`.busy`).
        public var maxConcurrentPerHost: Int
        /// Fetches in flight in total. A fetch holds its slot until its name
        /// lookup has returned, even past the deadline, so this also bounds
        /// the resolver threads (a hung lookup cannot be abandoned).
        public var maxConcurrentTotal: Int
        /// Fetches in flight started on behalf of one client address (its
        /// `IPAddress.limitKey`); more fail fast (`.clientBusy`). One client
        /// naming hosts whose name servers never answer then holds this many
        /// slots, not all of them.
        public var maxConcurrentPerClient: Int
        /// Cached responses kept (least recently used evicted first).
        public var cacheCapacity: Int

        public init(
            maxBytes: Int, timeout: Duration, cacheFloor: Int = 60, cacheCeiling: Int = 3600, cacheFallback: Int = 600,
            negativeTTL: Int = 10, maxConcurrentPerHost: Int = 2, maxConcurrentTotal: Int = 32, maxConcurrentPerClient: Int = 4,
            cacheCapacity: Int = 1024
        ) {
            self.maxBytes = maxBytes
            self.timeout = timeout
            self.cacheFloor = cacheFloor
            self.cacheCeiling = cacheCeiling
            self.cacheFallback = cacheFallback
            self.negativeTTL = negativeTTL
            self.maxConcurrentPerHost = maxConcurrentPerHost
            self.maxConcurrentTotal = maxConcurrentTotal
            self.maxConcurrentPerClient = maxConcurrentPerClient
            self.cacheCapacity = cacheCapacity
        }
    }

    /// A fetched response body, fresh or from the cache.
    public struct Document: Sendable, Equatable {
        public var url: String
        public var body: Data
        public var contentType: String
        /// The address the shim connected to (after the rule-11 check).
        public var address: NetworkAddress
        public var fetchedAt: Date
        public var expiresAt: Date
        /// Served from the cache, without network access.
        public var fromCache: Bool

        public init(
            url: String, body: Data, contentType: String = "application/json", address: NetworkAddress,
            fetchedAt: Date, expiresAt: Date, fromCache: Bool
        ) {
            self.url = url
            self.body = body
            self.contentType = contentType
            self.address = address
            self.fetchedAt = fetchedAt
            self.expiresAt = expiresAt
            self.fromCache = fromCache
        }
    }

    /// Why a fetch was refused or failed. `description` is safe to show
    /// (it names the host and the reason, never a body); the log carries
    /// the same text.
    public enum FetchError: Error, Sendable, Equatable, CustomStringConvertible {
        case invalidURL(String)
        case resolution(host: String)
        case forbiddenAddress(host: String, address: NetworkAddress, IPAddressPolicy.SpecialUse)
        case connection(host: String, String)
        case redirectRefused(status: Int)
        case status(Int)
        case tooLarge(limit: Int)
        case timeout(seconds: Int)
        case contentType(String?)
        case busy(host: String)
        /// The client address asking has its limit of fetches in flight.
        case clientBusy
        /// Every resolver thread is taken (by lookups that have not returned).
        case resolverBusy(host: String)

        /// A failure that says nothing about the document and may pass: the
        /// name did not resolve, the host did not answer or not in time, it
        /// answered 429 or 5xx, or this process had too many fetches under
        /// way. A document that is missing (404, 410), unusable or on a
        /// refused address is not transient.
        public var isTransient: Bool {
            switch self {
            case .resolution, .connection, .timeout, .busy, .clientBusy, .resolverBusy: true
            case .status(let code): code == 429 || code >= 500
            case .invalidURL, .forbiddenAddress, .redirectRefused, .tooLarge, .contentType: false
            }
        }

        /// A refusal by this process, for want of room, before anything was
        /// asked of the network: it says nothing about the URL and is never
        /// remembered (the next caller, perhaps the document's real client,
        /// tries again). Only the remote side's answers and silences are.
        public var isLocalSaturation: Bool {
            switch self {
            case .busy, .clientBusy, .resolverBusy: true
            default: false
            }
        }

        public var description: String {
            switch self {
            case .invalidURL(let why): "the URL cannot be fetched: \(why)"
            case .resolution(let host): "\(host) does not resolve"
            case .forbiddenAddress(let host, let address, let use):
                "\(host) resolves to \(address), a \(use.rawValue) address; only public addresses are fetched"
            case .connection(let host, let why): "\(host) could not be reached (\(why))"
            case .redirectRefused(let status): "the server answered a redirect (\(status)); redirects are not followed"
            case .status(let status): "the server answered \(status), not 200"
            case .tooLarge(let limit): "the response is larger than \(limit) bytes"
            case .timeout(let seconds): "no complete response within \(seconds) s"
            case .contentType(let type): "the response is \(type ?? "untyped"), not JSON"
            case .busy(let host): "too many fetches from \(host) are in progress; try again"
            case .clientBusy: "too many fetches for this client address are in progress; try again"
            case .resolverBusy(let host): "no resolver is free to look up \(host); try again"
            }
        }
    }

    /// `application/json`, or `application/<anything>+json` (the CIMD draft
    /// allows "more specific content types … application/<AS-defined>+json";
    /// JWKS use `application/jwk-set+json`), parameters ignored.
    public static func isJSONMediaType(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return media == "application/json" || (media.hasPrefix("application/") && media.hasSuffix("+json") && !media.contains(" "))
    }
}

/// What the server needs from a document fetcher: `GuardedFetcher` in
/// production; router tests substitute documents they hold in memory.
public protocol DocumentFetching: Sendable {
    /// `clientAddress`: the `IPAddress.limitKey` of the client whose request
    /// needs the document, for the per-client limit; nil when the fetch is
    /// not on a client's behalf (or its address is unknown).
    func fetch(_ url: String, clientAddress: String?) async throws(GuardedFetcher.FetchError) -> GuardedFetcher.Document
    /// The document from its source, not a cached copy (see `GuardedFetcher.fetchFresh`).
    func fetchFresh(_ url: String) async throws(GuardedFetcher.FetchError) -> GuardedFetcher.Document
}

extension DocumentFetching {
    /// A fetch on no particular client's behalf.
    public func fetch(_ url: String) async throws(GuardedFetcher.FetchError) -> GuardedFetcher.Document {
        try await fetch(url, clientAddress: nil)
    }

    /// A fetcher that keeps no copies answers every fetch fresh.
    public func fetchFresh(_ url: String) async throws(GuardedFetcher.FetchError) -> GuardedFetcher.Document {
        try await fetch(url, clientAddress: nil)
    }
}

extension GuardedFetcher: DocumentFetching {}
