public import AsyncHTTPClient
import Foundation
public import Logging
import Metrics
import NIOConcurrencyHelpers
public import NIOCore
import NIOHTTP1
import NIOSSL
public import ShimCore
import Tracing

/// The guarded fetch (rule 11): an outbound GET whose URL a client chose (a Client ID
/// Metadata Document; a trusted issuer's JWKS), made so that it cannot be
/// turned against the shim's own network.
///
/// - https only; the host is resolved ONCE (`HostResolver`: by default
///   `getaddrinfo` on threads of this fetcher's own, as many as it has
///   fetch slots) and every address it resolves to must be globally
///   routable (`IPAddressPolicy`, with the operator's NAT64 prefixes); one
///   bad address refuses the whole name (an attacker's DNS answering a
///   public and a private address gets nothing).
/// - The connection goes to the checked address (AsyncHTTPClient's
///   `dnsOverride`), while `Host`, SNI and certificate validation use the
///   original name: no second lookup, so no DNS rebinding between the check
///   and the connect.
/// - No redirects; exactly 200; a content-type check; the body streamed
///   with a size cap; one deadline for the whole fetch.
/// - Responses cached per `Cache-Control` within bounds; failures cached
///   briefly, but never a refusal for want of room here; one fetch per URL
///   in flight (callers share it); a per-host, a per-client-address and a
///   total limit on fetches in flight, each refusing at once beyond it. A
///   fetch whose deadline passes during its name lookup answers at the
///   deadline but keeps its slot until the lookup returns: lookups that
///   never answer fill this fetcher's slots (and are refused as busy), not
///   an unbounded number of threads, and never another fetcher's. Every
///   table is bounded.
///
/// The operator may let named hosts resolve to loopback or private
/// addresses (tests, private deployments) and add trust roots; link-local
/// (cloud metadata), multicast and reserved addresses stay refused even then.
public final class GuardedFetcher: Sendable {
    let limits: Limits
    let resolver: any HostResolver
    let clock: any ShimClock
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup
    let tlsConfiguration: TLSConfiguration
    let trustsPrivateAddresses: @Sendable (String) -> Bool
    let nat64Prefixes: [NAT64Prefix]
    let accepts: @Sendable (String?) -> Bool
    /// A label for logs and `dcr_shim_outbound_fetches_total{purpose}`.
    let purpose: String
    let cache: FetchCache

    /// - Parameters:
    ///   - extraTrustRootsPEM: CA certificates trusted besides the system's.
    ///   - trustsPrivateAddresses: hosts the operator allows on loopback or
    ///     private addresses (never link-local, multicast or reserved ones).
    ///   - accepts: the allowed `Content-Type` (default: JSON).
    ///   - resolver: nil (production) for a `SystemResolver` of this
    ///     fetcher's own with `limits.maxConcurrentTotal` threads.
    ///   - nat64Prefixes: the deployment's NAT64 translator prefixes
    ///     (`cimd.nat64_prefixes`), besides the well-known one.
    public init(
        purpose: String, limits: Limits, resolver: (any HostResolver)? = nil, clock: any ShimClock = SystemClock(),
        logger: Logger, eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup,
        extraTrustRootsPEM: String? = nil, trustsPrivateAddresses: @escaping @Sendable (String) -> Bool = { _ in false },
        nat64Prefixes: [NAT64Prefix] = [],
        accepts: @escaping @Sendable (String?) -> Bool = GuardedFetcher.isJSONMediaType
    ) throws {
        self.purpose = purpose
        self.limits = limits
        self.resolver = resolver ?? SystemResolver(maxConcurrentLookups: limits.maxConcurrentTotal)
        self.nat64Prefixes = nat64Prefixes
        self.clock = clock
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        var tls = TLSConfiguration.makeClientConfiguration()
        if let extraTrustRootsPEM {
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(extraTrustRootsPEM.utf8)))]
        }
        tlsConfiguration = tls
        self.trustsPrivateAddresses = trustsPrivateAddresses
        self.accepts = accepts
        cache = FetchCache(capacity: limits.cacheCapacity)
    }

    /// The document at `url`, from the cache when fresh. Throws `FetchError`.
    /// `clientAddress` (an `IPAddress.limitKey`) counts the fetch against
    /// that client's limit; nil for fetches on no client's behalf.
    public func fetch(_ url: String, clientAddress: String?) async throws(FetchError) -> Document {
        try await fetch(url, clientAddress: clientAddress, reuseCache: true)
    }

    /// The document at `url` from the network, whatever the cache holds
    /// (a fetch already in flight is shared); the answer is cached as usual.
    /// For a caller that knows its cached copy is stale: a JWKS lacking the
    /// `kid` a token names. The caller bounds how often it asks.
    public func fetchFresh(_ url: String) async throws(FetchError) -> Document {
        try await fetch(url, clientAddress: nil, reuseCache: false)
    }

    func fetch(_ url: String, clientAddress: String?, reuseCache: Bool) async throws(FetchError) -> Document {
        guard let target = RedirectURI(url), target.scheme == "https", url.hasPrefix("https://"), !target.host.isEmpty,
            !target.hasUserinfo, !target.hasFragment
        else {
            throw .invalidURL("only https URLs without userinfo or fragment")
        }
        // Letters, digits, '-' and '.', or an IPv6 literal: nothing the HTTP client
        // might decode into another name than the one resolved and pinned here.
        guard RedirectPolicy.isPlainHost(target.host), !target.host.hasSuffix(".") else {
            throw .invalidURL("the host must be a plain DNS name or IP literal")
        }
        let host = target.host.hasPrefix("[") ? String(target.host.dropFirst().dropLast()).lowercased() : target.host.lowercased()
        let lookup = await cache.lookup(
            url: url, host: host, client: clientAddress, now: clock.now(), limits: limits,
            reuse: reuseCache
        ) { [self] in
            let outcome = await self.fetchWithDeadline(url: url, host: host, spelledAs: target.host) {
                await self.cache.release(host: host, client: clientAddress)
            }
            let now = self.clock.now()
            let expiry: Date
            switch outcome {
            case .success(let document): expiry = document.expiresAt
            case .failure: expiry = now.addingTimeInterval(TimeInterval(self.limits.negativeTTL))
            }
            await self.cache.finish(url: url, outcome: outcome, expiresAt: expiry, now: now)
            return outcome
        }
        let outcome: FetchCache.Outcome
        switch lookup {
        case .done(let done): outcome = done
        case .wait(let task): outcome = await task.value
        }
        return try outcome.get()
    }

    /// One network fetch raced against `limits.timeout`. The answer comes at
    /// the deadline even if the connection is slow to give up; the work left
    /// behind is bounded by the client's own connect and read timeouts.
    /// `release` gives the fetch's slot back exactly once: when the work
    /// ends, or at the deadline if the name lookup has returned by then
    /// (the rest is cancellable network I/O), else when the lookup returns.
    /// So a lookup that never answers holds its slot, and the thread under
    /// it stays counted, for as long as it runs.
    ///
    /// Traced as `fetch <purpose>` with the URL (a client_id or an issuer's
    /// key set: public) and the outcome. No `traceparent` goes to the host:
    /// a client names it (the fetch's HTTP client has no tracer).
    func fetchWithDeadline(
        url: String, host: String, spelledAs: String,
        release: @escaping @Sendable () async -> Void
    ) async -> FetchCache.Outcome {
        await withSpan("fetch \(purpose)", ofKind: .client) { span in
            span.attributes["url.full"] = url
            span.attributes["server.address"] = host
            let outcome = await fetchWithDeadlineUntraced(url: url, host: host, spelledAs: spelledAs, release: release)
            span.attributes["dcr_shim.fetch.outcome"] = outcome.metricOutcome
            if case .failure = outcome { span.setStatus(SpanStatus(code: .error)) }
            return outcome
        }
    }

    func fetchWithDeadlineUntraced(
        url: String, host: String, spelledAs: String,
        release: @escaping @Sendable () async -> Void
    ) async -> FetchCache.Outcome {
        let started = ContinuousClock.now
        let timedOut = FetchCache.Outcome.failure(.timeout(seconds: seconds(limits.timeout)))
        let attempt = Attempt()
        let outcome: FetchCache.Outcome = await withCheckedContinuation { continuation in
            attempt.state.withLockedValue { $0.waiting = continuation }
            let work = Task {
                let resolved = await self.resolveHost(host)
                if attempt.lookupReturned() {
                    // The deadline passed during the lookup: the caller has its answer.
                    if attempt.takeRelease() { await release() }
                    return
                }
                let result: FetchCache.Outcome
                switch resolved {
                case .success(let addresses): result = await self.fetchFromNetwork(url: url, host: host, spelledAs: spelledAs, addresses: addresses)
                case .failure(let error): result = .failure(error)
                }
                if attempt.takeRelease() { await release() }
                attempt.takeWaiting()?.resume(returning: result)
            }
            Task {
                try? await Task.sleep(for: self.limits.timeout)
                guard let waiting = attempt.takeWaiting() else { return }
                work.cancel()
                if attempt.deadlinePassed(), attempt.takeRelease() { await release() }
                waiting.resume(returning: timedOut)
            }
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        switch outcome {
        case .success(let document):
            logger.info(
                "outbound fetch",
                metadata: [
                    "purpose": "\(purpose)", "url": "\(url)", "address": "\(document.address)",
                    "bytes": "\(document.body.count)", "ms": "\(milliseconds)",
                ])
        case .failure(let error):
            logger.notice(
                "outbound fetch refused",
                metadata: [
                    "purpose": "\(purpose)", "url": "\(url)", "reason": "\(error)",
                    "ms": "\(milliseconds)",
                ])
        }
        Counter(
            label: "dcr_shim_outbound_fetches_total",
            dimensions: [("purpose", purpose), ("outcome", outcome.metricOutcome)]
        ).increment()
        return outcome
    }

    /// The name's addresses, each judged (rule 11): resolved once, on the
    /// fetcher's resolver. A resolver with no thread free is a refusal for
    /// want of room here (`resolverBusy`), not an answer about the name.
    func resolveHost(_ host: String) async -> Result<[NetworkAddress], FetchError> {
        let addresses: [NetworkAddress]
        do { addresses = try await resolver.resolve(host: host) } catch is HostResolverBusy {
            return .failure(.resolverBusy(host: host))
        } catch {
            return .failure(.resolution(host: host))
        }
        if addresses.isEmpty { return .failure(.resolution(host: host)) }
        for address in addresses {
            if let use = IPAddressPolicy.specialUse(address, nat64Prefixes: nat64Prefixes),
                !(trustsPrivateAddresses(host) && Self.relaxable.contains(use))
            {
                return .failure(.forbiddenAddress(host: host, address: address, use))
            }
        }
        return .success(addresses)
    }

    /// Connect to a checked address of `addresses` (from `resolveHost`).
    /// `host` is lowercased; `spelledAs` is the host as the URL writes it,
    /// which is what the HTTP client looks up in `dnsOverride`.
    func fetchFromNetwork(url: String, host: String, spelledAs: String, addresses: [NetworkAddress]) async -> FetchCache.Outcome {
        if Task.isCancelled { return .failure(.timeout(seconds: seconds(limits.timeout))) }
        // An IPv4 address when there is one (hosts without IPv6 routes are common).
        guard let pinned = addresses.first(where: \.isIPv4) ?? addresses.first else { return .failure(.resolution(host: host)) }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tlsConfiguration, redirectConfiguration: .disallow,
            timeout: .init(
                connect: .seconds(Int64(seconds(limits.timeout))),
                read: .seconds(Int64(seconds(limits.timeout)))),
            decompression: .disabled)
        if NetworkAddress(host) == nil {
            // Connect to the checked address; Host, SNI and the certificate use the name.
            // Both spellings: a key that missed (`PINNED.test` vs `pinned.test`) would
            // let the client resolve the name again, reopening the rebinding window.
            let literal = pinned.isIPv4 ? pinned.description : String(pinned.description.dropFirst().dropLast())
            configuration.dnsOverride[host] = literal
            configuration.dnsOverride[spelledAs] = literal
        }
        configuration.proxy = nil
        configuration.tracing.tracer = nil  // no trace context to a host a client chose
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "dcr-shim (\(purpose) fetch)")
        do {
            return try await HTTPClient.withHTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration) { client in
                // The client's own deadline comes first (at 80%), so a refused
                // certificate is reported as such rather than as our timeout.
                let response = try await client.execute(request, timeout: .milliseconds(Int64(limits.timeout / .milliseconds(1) * 0.8)))
                return try await self.read(response, url: url, address: pinned)
            }
        } catch let error as FetchError {
            return .failure(error)
        } catch is NIOTooManyBytesError {
            return .failure(.tooLarge(limit: limits.maxBytes))
        } catch let error as HTTPClientError where Self.timeouts.contains(error) {
            return .failure(.timeout(seconds: seconds(limits.timeout)))
        } catch {
            if Task.isCancelled { return .failure(.timeout(seconds: seconds(limits.timeout))) }
            return .failure(.connection(host: host, String(describing: error).prefix(160).description))
        }
    }

    /// Status, content type and size, then the body as a stream up to the cap.
    func read(_ response: HTTPClientResponse, url: String, address: NetworkAddress) async throws -> FetchCache.Outcome {
        let status = Int(response.status.code)
        if (300..<400).contains(status) { return .failure(.redirectRefused(status: status)) }
        guard status == 200 else { return .failure(.status(status)) }
        let contentType = response.headers.first(name: "Content-Type")
        guard accepts(contentType) else { return .failure(.contentType(contentType.map { String($0.prefix(80)) })) }
        if let declared = response.headers.first(name: "Content-Length").flatMap(Int.init), declared > limits.maxBytes {
            return .failure(.tooLarge(limit: limits.maxBytes))
        }
        let body = try await response.body.collect(upTo: limits.maxBytes)
        let now = clock.now()
        let lifetime = CacheLifetime.seconds(
            cacheControl: response.headers[canonicalForm: "Cache-Control"].joined(separator: ","),
            floor: limits.cacheFloor, ceiling: limits.cacheCeiling, fallback: limits.cacheFallback)
        return .success(
            Document(
                url: url, body: Data(body.readableBytesView), contentType: contentType ?? "", address: address,
                fetchedAt: now, expiresAt: now.addingTimeInterval(TimeInterval(lifetime)), fromCache: false))
    }

    static let timeouts: [HTTPClientError] = [.deadlineExceeded, .readTimeout, .connectTimeout, .getConnectionFromPoolTimeout]

    /// Special-use ranges an operator may open for named hosts.
    static let relaxable: Set<IPAddressPolicy.SpecialUse> = [.loopback, .privateUse, .sharedAddressSpace, .uniqueLocal]

    func seconds(_ duration: Duration) -> Int { max(1, Int(duration.components.seconds)) }

    /// Sizes of the cache tables: remembered responses, URLs being fetched,
    /// hosts and client addresses holding slots, slots held (for tests and
    /// diagnostics).
    public var cacheCounts: (entries: Int, inFlight: Int, hosts: Int, clients: Int, slots: Int) { get async { await cache.counts } }
}
