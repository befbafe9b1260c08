public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ShimCore

/// A real IdP over HTTP: discovery (cached), the authorization URL with the
/// shim's PKCE pair and nonce, and the token endpoint with the one static
/// client's credentials — each as the preset's `IdPProfile` says.
public final class OIDCUpstream: UpstreamIdP {
    let config: UpstreamConfiguration
    let profile: IdPProfile
    let failureContext: FailureContext
    let httpClient: HTTPClient
    let logger: Logger
    /// The ONE redirect URI registered at the IdP: `<issuer>/callback`.
    let callbackURL: String
    let discovered = DiscoveryCache()
    /// The ID-token verifier, made once the IdP's keys are known.
    let verifiers = VerifierCache()
    /// The client authentication of every token-endpoint request.
    let credentials: UpstreamClientCredentials

    /// - Parameter credentials: default: made from `config.clientAuth`.
    public init(
        config: UpstreamConfiguration, callbackURL: String, httpClient: HTTPClient, logger: Logger, credentials: UpstreamClientCredentials? = nil
    ) {
        self.config = config
        self.credentials = credentials ?? UpstreamClientCredentials(config: config, httpClient: httpClient)
        self.profile = IdPProfile.of(config.preset)
        self.failureContext = FailureContext(config: config, callbackURL: callbackURL)
        self.callbackURL = callbackURL
        self.httpClient = httpClient
        self.logger = logger
    }

    var timeout: TimeAmount { .seconds(Int64(config.timeoutSeconds)) }

    /// `dcr_shim_upstream_certificate_expiry_seconds`, when the shim authenticates with a certificate.
    public func recordCertificateExpiry() { credentials.recordCertificateExpiry() }

    public func isReady() async -> Bool {
        (try? await endpoints()) != nil
    }

    /// Fixed endpoints, or discovery on first use (retried on the next call
    /// after a failure, so an IdP that was down at start is picked up later).
    func endpoints() async throws(OAuthError) -> UpstreamEndpoints {
        if let fixed = profile.fixedEndpoints(config) { return fixed }
        if let cached = await discovered.value { return cached }
        let endpoints = try await discover()
        await discovered.set(endpoints)
        return endpoints
    }

    /// Fetches the discovery document (OIDC Discovery §4, then RFC 8414 §3).
    public func discover() async throws(OAuthError) -> UpstreamEndpoints {
        guard let issuer = profile.discoveryIssuer(config) else {
            throw OAuthError(.serverError, "the identity provider is not configured", status: 500)
        }
        var lastProblem = "no discovery document"
        for url in UpstreamEndpoints.discoveryURLs(issuer: issuer) {
            do {
                let (status, body, _) = try await send(HTTPClientRequest(url: url), operation: "discovery")
                guard status == 200 else {
                    lastProblem = "\(url) answered \(status)"
                    continue
                }
                let endpoints = try Self.parseDiscovery(body, issuer: issuer, overrides: config)
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

    /// The members of a discovery document the shim reads.
    struct DiscoveryDocument: Decodable {
        var issuer: String?
        var authorization_endpoint: String?
        var token_endpoint: String?
        var revocation_endpoint: String?
        var userinfo_endpoint: String?
        var jwks_uri: String?
        var id_token_signing_alg_values_supported: [String]?
        var token_endpoint_auth_methods_supported: [String]?
    }

    /// OIDC Discovery §4.3: "The issuer value returned MUST be identical to
    /// the Issuer URL that was used as the prefix" — a mismatch means the
    /// document is not this IdP's (mix-up defence).
    static func parseDiscovery(_ body: Data, issuer: String, overrides: UpstreamConfiguration) throws(OAuthError) -> UpstreamEndpoints {
        guard let document = try? JSONDecoder().decode(DiscoveryDocument.self, from: body),
            let authorization = overrides.authorizationEndpoint ?? document.authorization_endpoint,
            let token = overrides.tokenEndpoint ?? document.token_endpoint
        else {
            throw OAuthError(.temporarilyUnavailable, "the identity provider's metadata is unusable", detail: "discovery document lacks endpoints")
        }
        let published = document.issuer
        guard
            published == issuer || published.map({ $0 + "/" == issuer || issuer + "/" == $0 }) == true
                || (overrides.preset == .entra && published.map { Self.isEntraIssuer($0, configured: issuer) } == true)
        else {
            throw OAuthError(
                .temporarilyUnavailable, "the identity provider's metadata is unusable",
                detail: "discovery issuer \(published ?? "missing") differs from configured \(issuer)")
        }
        var endpoints = UpstreamEndpoints(
            authorization: authorization, token: token,
            revocation: overrides.revocationEndpoint ?? document.revocation_endpoint,
            userinfo: overrides.userinfoEndpoint ?? document.userinfo_endpoint,
            jwks: overrides.jwksURI ?? document.jwks_uri)
        endpoints.issuer = published
        endpoints.idTokenAlgorithms = document.id_token_signing_alg_values_supported
        endpoints.tokenAuthMethods = document.token_endpoint_auth_methods_supported
        return endpoints
    }

    /// Entra publishes its issuer with the tenant's GUID, also when asked by
    /// domain name (`contoso.onmicrosoft.com`), and as `{tenantid}` for the
    /// multi-tenant endpoints (`common`, `organizations`): same host, `/v2.0`.
    static func isEntraIssuer(_ published: String, configured: String) -> Bool {
        guard let a = RedirectURI(published), let b = RedirectURI(configured) else { return false }
        return a.scheme == "https" && a.scheme == b.scheme && a.host == b.host && a.port == b.port
            && a.path.hasSuffix("/v2.0") && a.path.split(separator: "/").count == 2
    }

    public func authorizationURL(state: String, codeChallenge: String, nonce: String?, scope: ScopeSet) async throws(OAuthError) -> String {
        let endpoint = try await endpoints().authorization
        var pairs: [(String, String)] = [
            ("response_type", "code"),
            ("client_id", config.clientID),
            ("redirect_uri", callbackURL),
            ("scope", profile.authorizeScope(scope).text),
            ("state", state),
            ("code_challenge", codeChallenge),
            ("code_challenge_method", "S256"),
        ]
        if let nonce { pairs.append(("nonce", nonce)) }
        // `resource` is never forwarded: Entra v2 rejects it (AADSTS901002) and
        // the resource is expressed by the mapped scopes instead.
        pairs += profile.authorizeParameters(config)
        return endpoint + (endpoint.contains("?") ? "&" : "?") + FormEncoding.encode(pairs)
    }

    public func explainAuthorizationError(_ error: String, description: String?) -> UpstreamFailure {
        profile.explain(
            UpstreamErrorReport(phase: .authorization, status: nil, error: error, description: description ?? ""),
            context: failureContext)
    }
}

/// Discovery result, shared by concurrent requests.
actor DiscoveryCache {
    var value: UpstreamEndpoints?
    func set(_ endpoints: UpstreamEndpoints) { value = endpoints }
}
