public import AsyncHTTPClient
import Foundation
public import Logging
public import ShimCore
import NIOCore
import NIOHTTP1

/// A real IdP over HTTP: discovery (cached), the authorization URL with the
/// shim's PKCE pair and nonce, and the token endpoint with the one static
/// client's credentials.
public final class OIDCUpstream: UpstreamIdP {
    let config: UpstreamConfiguration
    let httpClient: HTTPClient
    let logger: Logger
    /// The ONE redirect URI registered at the IdP: `<issuer>/callback`.
    let callbackURL: String
    let discovered = DiscoveryCache()

    public init(config: UpstreamConfiguration, callbackURL: String, httpClient: HTTPClient, logger: Logger) {
        self.config = config
        self.callbackURL = callbackURL
        self.httpClient = httpClient
        self.logger = logger
    }

    var timeout: TimeAmount { .seconds(Int64(config.timeoutSeconds)) }

    public func isReady() async -> Bool {
        (try? await endpoints()) != nil
    }

    /// Fixed endpoints, or discovery on first use (retried on the next call
    /// after a failure, so an IdP that was down at start is picked up later).
    func endpoints() async throws(OAuthError) -> UpstreamEndpoints {
        if let fixed = UpstreamEndpoints.fixed(for: config) { return fixed }
        if let cached = await discovered.value { return cached }
        guard let issuer = UpstreamEndpoints.defaultIssuer(for: config) else {
            throw OAuthError(.serverError, "the identity provider is not configured", status: 500)
        }
        var lastProblem = "no discovery document"
        for url in UpstreamEndpoints.discoveryURLs(issuer: issuer) {
            do {
                let (status, body) = try await send(HTTPClientRequest(url: url))
                guard status == 200 else { lastProblem = "\(url) answered \(status)"; continue }
                let endpoints = try Self.parseDiscovery(body, issuer: issuer, overrides: config)
                await discovered.set(endpoints)
                logger.info("upstream discovery succeeded", metadata: ["url": "\(url)"])
                return endpoints
            } catch let error as OAuthError {
                lastProblem = error.detail ?? error.description
            } catch {
                lastProblem = "\(url): \(error)"
            }
        }
        logger.warning("upstream discovery failed", metadata: ["problem": "\(lastProblem)"])
        throw OAuthError(.temporarilyUnavailable, "the identity provider cannot be reached; try again later", detail: lastProblem)
    }

    /// OIDC Discovery §4.3: "The issuer value returned MUST be identical to
    /// the Issuer URL that was used as the prefix" — a mismatch means the
    /// document is not this IdP's (mix-up defence).
    static func parseDiscovery(_ body: Data, issuer: String, overrides: UpstreamConfiguration) throws(OAuthError) -> UpstreamEndpoints {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let authorization = overrides.authorizationEndpoint ?? object["authorization_endpoint"] as? String,
              let token = overrides.tokenEndpoint ?? object["token_endpoint"] as? String else {
            throw OAuthError(.temporarilyUnavailable, "the identity provider's metadata is unusable", detail: "discovery document lacks endpoints")
        }
        let published = object["issuer"] as? String
        guard published == issuer || published.map({ $0 + "/" == issuer || issuer + "/" == $0 }) == true else {
            throw OAuthError(.temporarilyUnavailable, "the identity provider's metadata is unusable",
                             detail: "discovery issuer \(published ?? "missing") differs from configured \(issuer)")
        }
        return UpstreamEndpoints(authorization: authorization, token: token,
                                 revocation: overrides.revocationEndpoint ?? object["revocation_endpoint"] as? String)
    }

    public func authorizationURL(state: String, codeChallenge: String, nonce: String?, scope: ScopeSet) async throws(OAuthError) -> String {
        let endpoint = try await endpoints().authorization
        var pairs: [(String, String)] = [
            ("response_type", "code"),
            ("client_id", config.clientID),
            ("redirect_uri", callbackURL),
            ("scope", scope.text),
            ("state", state),
            ("code_challenge", codeChallenge),
            ("code_challenge_method", "S256"),
        ]
        if let nonce { pairs.append(("nonce", nonce)) }
        // `resource` is never forwarded: Entra v2 rejects it (AADSTS901002) and
        // the resource is expressed by the mapped scopes instead.
        pairs += config.extraAuthorizeParams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return endpoint + (endpoint.contains("?") ? "&" : "?") + FormEncoding.encode(pairs)
    }

}

/// Discovery result, shared by concurrent requests.
actor DiscoveryCache {
    var value: UpstreamEndpoints?
    func set(_ endpoints: UpstreamEndpoints) { value = endpoints }
}
