public import AsyncHTTPClient
import Foundation
import HTTPTypes
public import Hummingbird
import Logging
public import ShimCore
public import ShimStorage
public import ShimTokens
import Tracing

/// Gateway mode (docs/tokens-and-gateway.md, "Gateway mode"): each resource with
/// `resources[i].upstream` is served by the shim as a streaming reverse proxy
/// in front of an MCP server that has no authentication of its own.
///
/// Per request, in this order (the order oauth2-proxy and Cloudflare's
/// provider use): the Host check (`HostPolicy`, 421 for a name this server
/// does not answer for), the Origin check (DNS rebinding; 403, which also
/// refuses a CORS preflight from an origin not allowed), a CORS preflight
/// from an allowed origin answered (`CORSPolicy`, 204, no token), the
/// bearer token (signature, `aud` = this resource, expiry, live grant), the
/// required scopes, the request body read whole, then the header rewrite
/// (`ProxyHeaderPolicy`: the client's Authorization, Host, Origin, Expect,
/// cookies, hop-by-hop and forgeable headers removed, X-Forwarded-For/-Proto/
/// -Host set, identity headers set after that, the user's upstream token
/// injected when configured, then each downstream API's token), the path check (`GatewayPath`) and the
/// upstream call; on the way back the response headers are rewritten
/// (`Location`, `Set-Cookie`, `WWW-Authenticate`, `Cache-Control`, CSP on
/// HTML) and every answer to an allowed browser origin gets its CORS headers.
public struct Gateway: Sendable {
    let routes: [GatewayRoute]
    let validator: IssuedTokenValidator
    let upstreamTokens: (any UpstreamAccessTokens)?
    /// Tokens for the APIs behind the MCP servers (`resources[i].downstream`).
    let downstreamTokens: (any DownstreamTokens)?
    let httpClient: HTTPClient
    let clock: any ShimClock
    let settings: GatewayConfiguration
    /// Watch the client's connection during an SSE stream and cancel the
    /// upstream call when it closes. Needs a live HTTP server (the router
    /// test mode has no connection to watch).
    let cancelsOnClientClose: Bool
    /// Sessions bound to their user, streams and request rates bounded per grant.
    let guards: GatewayGuards
    /// Per-tool policy and per-call audit, by resource (Gateway+Tools.swift).
    let toolGates: [String: GatewayToolGate]

    /// - Parameters: `sessions`: where the owners of MCP sessions are
    ///   recorded (the shim's store, shared by replicas);
    ///   `sharedRateLimit`: the store's shared counters when replicas share
    ///   it (`gateway.requests_per_minute` then holds across them);
    ///   `counters`: this process's per-grant counts, the same instance for
    ///   every gateway a reload builds (`GatewayCounters`).
    public init(
        config: ShimConfiguration, validator: IssuedTokenValidator, upstreamTokens: (any UpstreamAccessTokens)?,
        httpClient: HTTPClient, sessions: any GatewaySessionStore, sharedRateLimit: (any SharedRateLimitStore)? = nil,
        clock: any ShimClock = SystemClock(), cancelsOnClientClose: Bool = true, counters: GatewayCounters = GatewayCounters(),
        downstreamTokens: (any DownstreamTokens)? = nil
    ) {
        let issuer = config.issuerBase
        // The scopes named in challenges and metadata: the resource's own,
        // never a base scope or offline_access (the one scope rule, SEP-2207).
        let policy = ResourcePolicy(resources: config.resources, upstreamScopes: config.upstream.scopes)
        routes = config.gatewayResources.map { gateway in
            GatewayRoute(gateway, scopes: policy.challengeScopes(for: gateway.resource), issuer: issuer)
        }
        self.validator = validator
        self.upstreamTokens = upstreamTokens
        self.downstreamTokens = downstreamTokens
        self.httpClient = httpClient
        self.clock = clock
        self.settings = config.gateway
        self.cancelsOnClientClose = cancelsOnClientClose
        guards = GatewayGuards(
            limits: config.gateway.limits, sessions: sessions, sharedRateLimit: sharedRateLimit, validator: validator, clock: clock,
            counters: counters)
        toolGates = GatewayToolGate.gates(for: config)
    }

    /// The HTTP client the gateway needs: connect and idle timeouts from
    /// `gateway.*`, no redirects followed, idle pooled connections closed
    /// after `gateway.pool_idle_timeout`, a connection pool larger than the
    /// concurrent streams it should carry (requests beyond it wait, up to
    /// `gateway.response_timeout`).
    public static func makeHTTPClient(_ settings: GatewayConfiguration) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(Int64(settings.connectTimeoutSeconds)), read: .seconds(Int64(settings.idleTimeoutSeconds))))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(Int64(settings.poolIdleTimeoutSeconds)), concurrentHTTP1ConnectionsPerHostSoftLimit: settings.maxConnections)
        // A refused connection is answered 502 at once (the client retries)
        // rather than retried with back-off until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        // The forwarded call is traced by `forward` itself (its span records the
        // path, never the client's query, and sets trace context once).
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Adds, for every gateway resource, its RFC 9728 metadata
    /// (`/.well-known/oauth-protected-resource/<path>`) and the proxy routes
    /// (the path and everything below it, every method).
    public func register<Context: RequestContext>(on router: Router<Context>) {
        for route in routes {
            router.get(RouterPath(route.metadataPath)) { _, _ in GatewayResponses.metadata(route) }
            router.on(RouterPath(route.metadataPath), method: .options) { request, _ -> Response in
                GatewayResponses.metadata(route, preflight: true, requestedHeaders: request.headers[.accessControlRequestHeaders])
            }
            for path in [route.path, route.path + "/**"] {
                for method in [HTTPRequest.Method.get, .post, .delete, .put, .patch, .options, .head] {
                    router.on(RouterPath(path), method: method) { request, context -> Response in
                        // The client's address as the server resolved it (listen.trusted_proxies), when its context knows it.
                        let clientAddress = (context as? any ClientAddressCarrying)?.clientAddress
                        return await handle(request, route: route, clientAddress: clientAddress, logger: context.logger)
                    }
                }
            }
        }
    }

    /// One request through the gateway; every outcome is a response.
    func handle(_ request: Request, route: GatewayRoute, clientAddress: IPAddress? = nil, logger: Logger) async -> Response {
        let started = ContinuousClock.now
        // The per-call audit record, filled in by the checks (Gateway+Tools.swift).
        let record = GatewayCallRecord()
        let response = await GatewayCallRecord.current.withValue(record) {
            await answer(request, route: route, clientAddress: clientAddress, logger: logger)
        }
        let nanoseconds = Self.nanoseconds(ContinuousClock.now - started)
        route.metrics.record(status: response.status.code, nanoseconds: nanoseconds)
        audit(record, route: route, status: response.status.code, nanoseconds: nanoseconds, logger: logger)
        return response
    }

    /// The checks before authorization: Host, Origin, the CORS preflight;
    /// then the CORS headers on every answer to an allowed origin.
    func answer(_ request: Request, route: GatewayRoute, clientAddress: IPAddress?, logger: Logger) async -> Response {
        let host = request.head.authority
        guard HostPolicy.allows(host, hosts: route.hosts) else {
            logger.notice("gateway: host refused", metadata: ["host": "\(host?.prefix(100) ?? "")"])
            return GatewayResponses.jsonRPCError(.misdirectedRequest, "This server does not answer for that host")
        }
        let origin = request.headers[.origin]
        guard OriginPolicy.allows(origin, allowed: route.allowedOrigins) else {
            logger.notice("gateway: origin refused", metadata: ["origin": "\(origin?.prefix(100) ?? "")"])
            return GatewayResponses.jsonRPCError(.forbidden, "Origin not allowed")
        }
        if let origin,
            CORSPolicy.isPreflight(
                method: request.method.rawValue, origin: origin,
                requestMethod: request.headers[.accessControlRequestMethod])
        {
            return GatewayResponses.preflight(origin: origin, requestedHeaders: request.headers[.accessControlRequestHeaders])
        }
        var response = await authorizeAndForward(request, route: route, clientAddress: clientAddress, logger: logger)
        if let origin {
            for (name, value) in CORSPolicy.responseHeaders(origin: origin) {
                if let field = HTTPField.Name(name) { response.headers.append(HTTPField(name: field, value: value)) }
            }
        }
        return response
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    func authorizeAndForward(_ request: Request, route: GatewayRoute, clientAddress: IPAddress?, logger: Logger) async -> Response {
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
        if let refused = await guards.admit(request, claims: claims, route: route, logger: logger) { return refused }
        return await forward(request, claims: claims, route: route, clientAddress: clientAddress, logger: logger)
    }
}
