import Foundation
public import Logging
public import ShimCore

/// The two fetchers the shim runs, built from their configuration sections.
extension GuardedFetcher {
    /// Builds the fetcher for Client ID Metadata Documents from `cimd.*`: the
    /// draft's 5 KB, `cimd.fetch_timeout`, `cimd.cache_min`/`cache_max` (10
    /// minutes without a Cache-Control), 10 s of negative caching, two fetches
    /// per host, four per client address and 32 in all at once (with 32
    /// resolver threads of its own), 4096 cached documents, and the NAT64
    /// prefixes of `cimd.nat64_prefixes`.
    public static func documents(_ config: CIMDConfiguration, logger: Logger) throws -> GuardedFetcher {
        let policy = config.policy
        let limits = GuardedFetcher.Limits(
            maxBytes: CIMDConfiguration.maxDocumentBytes, timeout: .seconds(config.fetchTimeoutSeconds),
            cacheFloor: config.cacheMinSeconds, cacheCeiling: config.cacheMaxSeconds, cacheFallback: 600, negativeTTL: 10,
            maxConcurrentPerHost: 2, maxConcurrentTotal: 32, maxConcurrentPerClient: 4, cacheCapacity: 4096)
        do {
            return try GuardedFetcher(
                purpose: "cimd", limits: limits, logger: logger, extraTrustRootsPEM: config.insecureCAPEM,
                trustsPrivateAddresses: { policy.trustsPrivateAddresses(of: $0) }, nat64Prefixes: config.nat64)
        } catch {
            throw SetupError(description: "cimd.insecure_ca: the PEM certificates cannot be read (\(error))")
        }
    }

    /// The rule-11 fetcher for trusted issuers' key sets (`ema.trusted_issuers[].jwks_uri`):
    /// https only, public addresses (plus `ema.insecure_private_hosts`),
    /// 64 KB (JWKS with certificate chains are larger than CIMD's 5 KB),
    /// 10 s, cached per `Cache-Control` between 30 s and 5 minutes, failures
    /// for 10 s; a token naming a key the cached set lacks makes
    /// `TrustedIssuerKeys` fetch it again past the cache (`fetchFresh`), at
    /// most every 30 s per issuer, so a rotated key is seen at once. Its own
    /// 8 fetch slots and 8 resolver threads: document fetches, which any
    /// client can start, never take the ones trusted issuers' keys need.
    /// `nat64Prefixes`: `cimd.nat64_prefixes` (the deployment's translators).
    public static func issuerKeys(_ config: EMAConfiguration, nat64Prefixes: [NAT64Prefix] = [], logger: Logger) throws -> GuardedFetcher {
        let limits = GuardedFetcher.Limits(
            maxBytes: 64 * 1024, timeout: .seconds(10), cacheFloor: 30, cacheCeiling: 300, cacheFallback: 300,
            negativeTTL: 10, maxConcurrentPerHost: 2, maxConcurrentTotal: 8, cacheCapacity: 64)
        let privateHosts = Set(config.insecurePrivateHosts.map { $0.lowercased() })
        do {
            return try GuardedFetcher(
                purpose: "jwks", limits: limits, logger: logger, extraTrustRootsPEM: config.insecureCA,
                trustsPrivateAddresses: { privateHosts.contains($0.lowercased()) }, nat64Prefixes: nat64Prefixes,
                accepts: { type in
                    let base = type?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                    return base == "application/json" || base == "application/jwk-set+json"
                })
        } catch {
            throw SetupError(description: "ema.insecure_ca: the PEM certificates cannot be read (\(error))")
        }
    }

    /// A fetcher that cannot be built from its configuration (unreadable PEM).
    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
    }
}
