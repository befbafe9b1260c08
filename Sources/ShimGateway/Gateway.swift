public import AsyncHTTPClient
import Foundation
import HTTPTypes
public import Hummingbird
import Logging
public import ShimCore
public import ShimTokens

/// Gateway mode (docs/tokens-and-gateway.md, "Gateway mode"): each resource with
/// `resources[i].upstream` is served by the shim as a streaming reverse proxy
/// in front of an MCP server that has no authentication of its own.
///
/// Per request, in this order (the order oauth2-proxy and Cloudflare's
/// provider use): the Origin check (DNS rebinding), the bearer token
/// (signature, `aud` = this resource, expiry, live grant), the required
/// scopes, then the header rewrite (the client's Authorization and Host and
/// the hop-by-hop headers removed, identity headers deleted then set, the
/// user's upstream token injected when configured) and the upstream call.
public struct Gateway: Sendable {
    let routes: [GatewayRoute]
    let validator: IssuedTokenValidator
    let upstreamTokens: (any UpstreamAccessTokens)?
    let httpClient: HTTPClient
    let clock: any ShimClock
    let settings: GatewayConfiguration
    /// Watch the client's connection during an SSE stream and cancel the
    /// upstream call when it closes. Needs a live HTTP server (the router
    /// test mode has no connection to watch).
    let cancelsOnClientClose: Bool

    public init(config: ShimConfiguration, validator: IssuedTokenValidator, upstreamTokens: (any UpstreamAccessTokens)?,
                httpClient: HTTPClient, clock: any ShimClock = SystemClock(), cancelsOnClientClose: Bool = true) {
        let issuer = config.issuerBase
        // The scopes named in challenges and metadata: the resource's own,
        // never a base scope or offline_access (the one scope rule, SEP-2207).
        let policy = ResourcePolicy(resources: config.resources, upstreamScopes: config.upstream.scopes)
        routes = config.gatewayResources.map { gateway in
            GatewayRoute(gateway, scopes: policy.challengeScopes(for: gateway.resource), issuer: issuer)
        }
        self.validator = validator
        self.upstreamTokens = upstreamTokens
        self.httpClient = httpClient
        self.clock = clock
        self.settings = config.gateway
        self.cancelsOnClientClose = cancelsOnClientClose
    }

    /// The HTTP client the gateway needs: connect and idle timeouts from
    /// `gateway.*`, no redirects followed, a connection pool larger than the
    /// concurrent streams it should carry (requests beyond it wait, up to
    /// `gateway.response_timeout`).
    public static func makeHTTPClient(_ settings: GatewayConfiguration) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(Int64(settings.connectTimeoutSeconds)), read: .seconds(Int64(settings.idleTimeoutSeconds))))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: settings.maxConnections)
        // A refused connection is answered 502 at once (the client retries)
        // rather than retried with back-off until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Adds, for every gateway resource, its RFC 9728 metadata
    /// (`/.well-known/oauth-protected-resource/<path>`) and the proxy routes
    /// (the path and everything below it, every method).
    public func register<Context: RequestContext>(on router: Router<Context>) {
        for route in routes {
            router.get(RouterPath(route.metadataPath)) { _, _ in GatewayResponses.metadata(route) }
            for path in [route.path, route.path + "/**"] {
                for method in [HTTPRequest.Method.get, .post, .delete, .put, .patch, .options, .head] {
                    router.on(RouterPath(path), method: method) { request, context in
                        await handle(request, route: route, logger: context.logger)
                    }
                }
            }
        }
    }

    /// One request through the gateway; every outcome is a response.
    func handle(_ request: Request, route: GatewayRoute, logger: Logger) async -> Response {
        let started = ContinuousClock.now
        let response = await authorizeAndForward(request, route: route, logger: logger)
        route.metrics.record(status: response.status.code, nanoseconds: Self.nanoseconds(ContinuousClock.now - started))
        return response
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    func authorizeAndForward(_ request: Request, route: GatewayRoute, logger: Logger) async -> Response {
        guard OriginPolicy.allows(request.headers[.origin], allowed: route.allowedOrigins) else {
            logger.notice("gateway: origin refused", metadata: ["origin": "\(request.headers[.origin]?.prefix(100) ?? "")"])
            return GatewayResponses.jsonRPCError(.forbidden, "Origin not allowed")
        }
        let token: String
        switch BearerChallenge.credential(request.headers[.authorization]) {
        case .absent:
            return GatewayResponses.unauthorized(route, error: nil, description: nil)
        case .malformed:
            return GatewayResponses.unauthorized(route, error: "invalid_token", description: "the bearer token is malformed")
        case .token(let value):
            token = value
        }
        let claims: AccessTokenClaims
        do {
            claims = try await validator.validate(token, resource: route.resource, now: clock.now())
        } catch let problem as TokenProblem {
            logger.info("gateway: token refused", metadata: ["reason": "\(problem)", "token": "\(SecretToken.logTag(token))"])
            return GatewayResponses.unauthorized(route, error: "invalid_token", description: problem.description)
        } catch {
            logger.error("gateway: token status unavailable", metadata: ["error": "\(error)"])
            return GatewayResponses.jsonRPCError(.serviceUnavailable, "Authorization status unavailable; retry")
        }
        guard AccessTokenRules.missingScopes(required: route.requiredScopes, granted: claims.scope).isEmpty else {
            return GatewayResponses.insufficientScope(route)
        }
        return await forward(request, claims: claims, route: route, logger: logger)
    }
}
