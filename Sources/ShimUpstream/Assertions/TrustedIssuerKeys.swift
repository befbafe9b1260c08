public import Foundation
import JWTKit
public import ShimCore

/// The keys of the issuers whose ID-JAGs the shim accepts
/// (`ema.trusted_issuers`), and the signature check with them. Keys are
/// inline in the configuration or fetched from the issuer's `jwks_uri`
/// through the rule-11 fetcher (https, public addresses, 64 KB, 10 s;
/// cached per `Cache-Control` between 30 s and 5 min, so a rotated key is
/// seen within 5 minutes). A token whose key the set lacks (an unknown
/// `kid`: the issuer rotated before the cached copy expired) makes the set be
/// fetched again, bypassing the cache, at most once per `refetchInterval`
/// (30 s) per issuer, so a flood of made-up `kid`s costs one fetch each
/// interval. Keys of different issuers never mix: each check uses one key of
/// the named issuer.
public actor TrustedIssuerKeys {
    let issuers: [String: TrustedIssuer]
    let inline: [String: [JWK]]
    let fetcher: (any DocumentFetching)?
    let clock: any ShimClock
    /// The least time between two fetches of one issuer's keys forced by a
    /// key the set lacks.
    let refetchInterval: TimeInterval
    /// Parsed fetched sets, by issuer, for the exact bytes they came from.
    var fetched: [String: (body: Data, keys: [JWK])] = [:]
    /// When each issuer's keys were last fetched because a key was missing.
    var forcedAt: [String: Date] = [:]

    /// - Throws: when an inline key set cannot be read (check-config checks its shape).
    public init(
        issuers: [TrustedIssuer], fetcher: (any DocumentFetching)?, clock: any ShimClock = SystemClock(),
        refetchInterval: TimeInterval = 30
    ) throws {
        var byIssuer: [String: TrustedIssuer] = [:]
        var inline: [String: [JWK]] = [:]
        for issuer in issuers {
            byIssuer[issuer.issuer] = issuer
            if let jwks = issuer.jwks {
                guard let keys = SigningKeySet.parse(Data(jwks.utf8)), !keys.isEmpty else {
                    throw TokenProblem.keysUnavailable("inline jwks has no usable key")
                }
                inline[issuer.issuer] = keys
            }
        }
        self.issuers = byIssuer
        self.inline = inline
        self.fetcher = fetcher
        self.clock = clock
        self.refetchInterval = refetchInterval
    }

    /// The configured issuer named `issuer`, if any.
    public func trusted(_ issuer: String) -> TrustedIssuer? { issuers[issuer] }

    /// Checks the signature of `token`, whose header already passed
    /// `IDJAGRules.checkHeader` for this issuer's algorithms, with the one key
    /// the header's `kid` names (no `kid`: only when exactly one key fits).
    public func verifySignature(_ token: String, header: JOSEHeader, issuer: String) async throws(TokenProblem) {
        guard let alg = header.alg else { throw .wrongAlgorithm }
        let keys = try await keySet(for: issuer)
        var choice = SigningKeySet.choose(alg: alg, kid: header.kid, in: keys)
        if case .missing = choice, let fresh = await refetchedKeys(for: issuer) {
            choice = SigningKeySet.choose(alg: alg, kid: header.kid, in: fresh)
        }
        guard case .key(let key) = choice else { throw .unknownKey }
        do {
            let collection = JWTKeyCollection()
            try await collection.add(jwk: key)
            _ = try await collection.verify(token, as: AnyAssertion.self)
        } catch {
            throw .badSignature
        }
    }

    /// The issuer's fetched keys again, from the network, when they have not
    /// been forced within `refetchInterval`; nil otherwise, for inline keys,
    /// or when the fetch fails (the token's key is then unknown, as before).
    func refetchedKeys(for issuer: String) async -> [JWK]? {
        guard inline[issuer] == nil, issuers[issuer]?.jwksURI != nil else { return nil }
        let now = clock.now()
        if let last = forcedAt[issuer], now.timeIntervalSince(last) < refetchInterval { return nil }
        forcedAt[issuer] = now  // before the fetch: concurrent misses do not each force one
        return try? await keySet(for: issuer, fresh: true)
    }

    func keySet(for issuer: String, fresh: Bool = false) async throws(TokenProblem) -> [JWK] {
        if let keys = inline[issuer] { return keys }
        guard let url = issuers[issuer]?.jwksURI, let fetcher else { throw .keysUnavailable("no keys configured for this issuer") }
        let document: GuardedFetcher.Document
        do {
            if fresh { document = try await fetcher.fetchFresh(url) } else { document = try await fetcher.fetch(url) }
        } catch {
            throw .keysUnavailable(error.description)
        }
        if let cached = fetched[issuer], cached.body == document.body { return cached.keys }
        guard let keys = SigningKeySet.parse(document.body) else { throw .keysUnavailable("the issuer's jwks_uri is not a JWKS document") }
        fetched[issuer] = (document.body, keys)
        return keys
    }
}

/// Decodes any JSON object: the signature is checked here, the claims by ShimCore's rules.
struct AnyAssertion: JWTPayload {
    init(from decoder: any Decoder) throws { _ = try decoder.container(keyedBy: JSONKey.self) }
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
