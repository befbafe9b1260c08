public import AsyncHTTPClient
import Foundation
public import Logging
public import ShimCore
import NIOCore
import NIOHTTP1
import Synchronization

/// Leg 1's check of the user's upstream ID token (`subject_token`): its
/// signature against the keys the IdP publishes (discovery's `jwks_uri`,
/// fetched with the IdP client: the operator chose this URL, not a client),
/// one key per check (`TrustedIssuerKeys`), then the OIDC Core §3.1.3.7
/// claims: `iss` the IdP's, `aud` containing the asking application (the
/// draft §4.3.1), `azp` when present the same, `exp` and `iat` within 60 s
/// of skew, a `sub`.
///
/// Stand-in until the upstream ID-token verifier of issue 11 is merged; it
/// will then do steps 1-3.
public actor UpstreamSubjectTokens: SubjectTokenVerifying {
    let config: UpstreamConfiguration
    let httpClient: HTTPClient
    let clock: any ShimClock
    let logger: Logger
    var discovered: (issuer: String, keys: TrustedIssuerKeys)?

    public init(config: UpstreamConfiguration, httpClient: HTTPClient, clock: any ShimClock = SystemClock(), logger: Logger) {
        self.config = config
        self.httpClient = httpClient
        self.clock = clock
        self.logger = logger
    }

    public func verifySubjectToken(_ idToken: String, audience: String) async throws(TokenProblem) -> [String: JSONValue] {
        let jws = try CompactJWS.parse(idToken)
        // RFC 8725 §3.11: another kind of JWT (an access token, an ID-JAG) is not an ID token.
        if jws.header.hasType(AccessTokenRules.mediaType) || jws.header.hasType(EMAProtocol.mediaType) {
            throw .wrongType(expected: "an ID token")
        }
        guard let alg = jws.header.alg, IDJAGRules.asymmetricAlgorithms.contains(alg) else { throw .wrongAlgorithm }
        guard jws.header.crit == nil else { throw .unsupportedCritical }
        let (issuer, keys) = try await idp()
        try await keys.verifySignature(idToken, header: jws.header, issuer: issuer)
        guard let claims = try? JSONDecoder().decode([String: JSONValue].self, from: jws.payload) else {
            throw .malformed("the ID token's claims are not a JSON object")
        }
        try Self.check(claims, issuer: issuer, audience: audience, now: Int(clock.now().timeIntervalSince1970))
        return claims
    }

    /// OIDC Core §3.1.3.7 steps 2, 3, 4, 9 and 10, on verified claims.
    static func check(_ claims: [String: JSONValue], issuer: String, audience: String, now: Int, skew: Int = 60) throws(TokenProblem) {
        guard claims["iss"]?.stringValue == issuer else { throw .wrongIssuer }
        let audiences: [String] = switch claims["aud"] {
        case .string(let one)?: [one]
        case .array(let many)?: many.compactMap(\.stringValue)
        default: []
        }
        guard audiences.contains(audience) else { throw .wrongAudience }
        if let azp = claims["azp"], azp.stringValue != audience { throw .wrongAudience }
        guard let exp = claims["exp"]?.intValue else { throw .missingClaim("exp") }
        guard exp + skew > now else { throw .expired }
        if let iat = claims["iat"]?.intValue, iat > now + skew { throw .issuedInFuture }
        guard let sub = claims["sub"]?.stringValue, !sub.isEmpty else { throw .missingClaim("sub") }
    }

    /// The IdP's issuer and keys, from its discovery document (once; retried after a failure).
    func idp() async throws(TokenProblem) -> (String, TrustedIssuerKeys) {
        if let discovered { return discovered }
        guard let base = UpstreamEndpoints.defaultIssuer(for: config) else { throw .keysUnavailable("the upstream has no discovery document") }
        for url in UpstreamEndpoints.discoveryURLs(issuer: base) {
            struct Discovery: Decodable { var issuer: String; var jwks_uri: String }
            guard let body = try? await Self.get(url, client: httpClient), let document = try? JSONDecoder().decode(Discovery.self, from: body) else {
                continue
            }
            let fetcher = UpstreamKeysFetcher(client: httpClient, clock: clock)
            let keys: TrustedIssuerKeys
            do {
                keys = try TrustedIssuerKeys(issuers: [TrustedIssuer(issuer: document.issuer, jwksURI: document.jwks_uri,
                                                                     algorithms: Array(IDJAGRules.asymmetricAlgorithms))], fetcher: fetcher)
            } catch {
                throw .keysUnavailable("\(error)")
            }
            discovered = (document.issuer, keys)
            return (document.issuer, keys)
        }
        logger.warning("EMA: the upstream's discovery document (issuer, jwks_uri) cannot be read")
        throw .keysUnavailable("the upstream's discovery document cannot be read")
    }

    static func get(_ url: String, client: HTTPClient) async throws -> Data {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        guard response.status.code == 200 else { throw TokenProblem.keysUnavailable("\(url) answered \(response.status.code)") }
        return Data(try await response.body.collect(upTo: 256 * 1024).readableBytesView)
    }
}

/// The IdP's key set over the IdP client, kept 5 minutes.
final class UpstreamKeysFetcher: DocumentFetching {
    let client: HTTPClient
    let clock: any ShimClock
    let cache = Mutex<[String: GuardedFetcher.Document]>([:])

    init(client: HTTPClient, clock: any ShimClock) {
        self.client = client
        self.clock = clock
    }

    func fetch(_ url: String) async throws(GuardedFetcher.FetchError) -> GuardedFetcher.Document {
        let now = clock.now()
        if let cached = cache.withLock({ $0[url] }), cached.expiresAt > now { return cached }
        let body: Data
        do { body = try await UpstreamSubjectTokens.get(url, client: client) } catch { throw .connection(host: url, "\(error)") }
        let document = GuardedFetcher.Document(url: url, body: body, address: NetworkAddress(bytes: [0, 0, 0, 0])!, fetchedAt: now,
                                               expiresAt: now.addingTimeInterval(300), fromCache: false)
        cache.withLock { $0[url] = document }
        return document
    }
}
