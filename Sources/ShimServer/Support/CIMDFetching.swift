import Foundation
public import Logging
import NIOConcurrencyHelpers
public import ShimCore
public import ShimUpstream

/// Builds the fetcher for Client ID Metadata Documents from `cimd.*`: the
/// draft's 5 KB, `cimd.fetch_timeout`, `cimd.cache_min`/`cache_max` (10
/// minutes without a Cache-Control), 10 s of negative caching, two fetches
/// per host, four per client address and 32 in all at once (with 32
/// resolver threads of its own), 4096 cached documents, and the NAT64
/// prefixes of `cimd.nat64_prefixes`.
public enum CIMDFetching {
    public static func makeFetcher(_ config: CIMDConfiguration, logger: Logger) throws -> GuardedFetcher {
        let policy = config.policy
        let limits = GuardedFetcher.Limits(
            maxBytes: CIMDConfiguration.maxDocumentBytes, timeout: .seconds(config.fetchTimeoutSeconds),
            cacheFloor: config.cacheMinSeconds, cacheCeiling: config.cacheMaxSeconds, cacheFallback: 600, negativeTTL: 10,
            maxConcurrentPerHost: 2, maxConcurrentTotal: 32, maxConcurrentPerClient: 4, cacheCapacity: 4096)
        do {
            return try GuardedFetcher(purpose: "cimd", limits: limits, logger: logger, extraTrustRootsPEM: config.insecureCAPEM,
                                      trustsPrivateAddresses: { policy.trustsPrivateAddresses(of: $0) }, nat64Prefixes: config.nat64)
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
