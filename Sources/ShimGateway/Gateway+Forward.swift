import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ShimCore
import ShimTokens
import Tracing

extension Gateway {
    /// The upstream call, after authorization. The request body is read
    /// whole here, before the MCP server is called (`readBody`); the response
    /// streams back without being collected (SSE events reach the client as
    /// they come); a client that goes away during an SSE stream cancels the
    /// upstream call.
    func forward(_ request: Request, claims: AccessTokenClaims, route: GatewayRoute, clientAddress: IPAddress?, logger: Logger) async -> Response {
        var headers = HTTPHeaders()
        // The header policy (ProxyHeaderPolicy): the client's forgeable and
        // connection headers dropped, X-Forwarded-For/-Proto/-Host set; the
        // identity headers after that, from the token only.
        let fields = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        for field in ProxyHeaderPolicy.forwardedRequestHeaders(
            fields, clientAddress: clientAddress, publicURL: route.resource,
            injected: route.injectedNames)
        {
            headers.add(name: field.name, value: field.value)
        }
        if route.identityHeaders { addIdentity(claims, to: &headers) }
        if route.identityAssertion {
            guard let assertion = await identityAssertion(claims, route: route) else {
                return GatewayResponses.jsonRPCError(.serviceUnavailable, "Identity assertion unavailable; retry")
            }
            headers.replaceOrAdd(name: IdentityAssertion.headerName, value: assertion)
        }
        // The body first: a refused one costs no upstream-token work.
        var request = request
        let body: ByteBuffer?
        switch await Self.readBody(&request, limit: settings.maxRequestBytes) {
        case .none: body = nil
        case .body(let buffer): body = buffer
        case .tooLarge: return GatewayResponses.jsonRPCError(.contentTooLarge, "Request body too large")
        case .incomplete: return GatewayResponses.jsonRPCError(.badRequest, "Request body incomplete")
        }
        // Per-tool policy and MCP header agreement (Gateway+Tools.swift).
        let toolCheck = checkTools(request, body: body, claims: claims, route: route, logger: logger)
        if case .refuse(let refusal) = toolCheck { return refusal }
        if let header = route.upstreamTokenHeader {
            guard let source = upstreamTokens, let grantID = claims.grantID else {
                return GatewayResponses.unauthorized(route, error: "invalid_token", description: "no upstream token for this token")
            }
            do {
                if let token = try await source.upstreamAccessToken(grantID: grantID, logger: logger) {
                    headers.replaceOrAdd(name: header, value: header.lowercased() == "authorization" ? "Bearer " + token : token)
                }
            } catch let error as OAuthError where error.code == .invalidGrant {
                return GatewayResponses.unauthorized(route, error: "invalid_token", description: "sign in again: " + error.description)
            } catch {
                logger.warning("gateway: upstream token unavailable", metadata: ["error": "\(error)"])
                return GatewayResponses.jsonRPCError(.serviceUnavailable, "The identity provider is unavailable; retry")
            }
        }

        guard let url = route.upstreamURL(requestPath: request.uri.path, query: request.uri.query) else {
            return GatewayResponses.jsonRPCError(.badRequest, "Path not allowed")
        }
        // Tokens for the APIs behind the MCP server last: a refused request costs no exchange at the IdP.
        if !route.downstream.isEmpty, let refused = await addDownstreamTokens(claims: claims, route: route, to: &headers, logger: logger) {
            return refused
        }
        var outbound = HTTPClientRequest(url: url)
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        outbound.headers = headers
        if let body { outbound.body = .bytes(body) }

        let upstream: HTTPClientResponse
        do {
            upstream = try await withSpan("gateway forward", ofKind: .client) { span in
                span.attributes["dcr_shim.gateway.resource"] = route.resource
                span.attributes["http.request.method"] = request.method.rawValue
                span.attributes["server.address"] = URL(string: url)?.host
                span.attributes["url.path"] = URL(string: url)?.path  // never the query
                Self.propagateTraceContext(into: &outbound.headers)
                let response = try await httpClient.execute(outbound, timeout: .seconds(Int64(settings.responseTimeoutSeconds)), logger: logger)
                span.attributes["http.response.status_code"] = Int(response.status.code)
                if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
                return response
            }
        } catch {
            logger.warning("gateway: MCP server call failed", metadata: ["resource": "\(route.resource)", "error": "\(error)"])
            return GatewayResponses.upstreamFailure(error)
        }
        // The session it returned recorded, a stream's slot and authority (GatewayGuards).
        switch await guards.answered(upstream, request: request, claims: claims, route: route, logger: logger) {
        case .refuse(let response): return response
        case .pass(let watch):
            let response = await streamed(upstream, request: request, route: route, watch: watch, logger: logger)
            return filterToolList(response, toolCheck)  // tools/list answers cut to what the caller may call
        }
    }

    /// W3C trace context for the MCP server: this call's span, continuing
    /// the client's trace when it sent one. With no tracer configured the
    /// client's `traceparent` and `tracestate` pass as they came, as any
    /// proxy passes them.
    static func propagateTraceContext(into headers: inout HTTPHeaders) {
        guard let context = ServiceContext.current else { return }
        var injected = HTTPHeaders()
        InstrumentationSystem.tracer.inject(context, into: &injected, using: TraceHeadersInjector())
        guard !injected.isEmpty else { return }
        headers.remove(name: "traceparent")
        headers.remove(name: "tracestate")
        for (name, value) in injected { headers.add(name: name, value: value) }
    }

    /// X-Forwarded-User (`sub`), X-Forwarded-Client-Id, X-Forwarded-Scope and
    /// X-Forwarded-Email, from the validated token only. A value that is not
    /// visible ASCII is left out rather than altered.
    func addIdentity(_ claims: AccessTokenClaims, to headers: inout HTTPHeaders) {
        var values = [("X-Forwarded-User", claims.subject), ("X-Forwarded-Client-Id", claims.clientID), ("X-Forwarded-Scope", claims.scope)]
        if let email = claims.extra["email"]?.stringValue { values.append(("X-Forwarded-Email", email)) }
        for (name, value) in values where !value.isEmpty && value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
            headers.replaceOrAdd(name: name, value: value)
        }
    }

    /// `X-DCR-Shim-Assertion` (`IdentityAssertion`): the token's identity,
    /// signed for this resource with the shim's keys, per request. nil (the
    /// request is refused, not sent unsigned) when signing fails.
    func identityAssertion(_ claims: AccessTokenClaims, route: GatewayRoute) async -> String? {
        let payload = IdentityAssertion.claims(
            for: claims, issuer: validator.issuer, resource: route.resource, now: Int(clock.now().timeIntervalSince1970),
            tokenID: SecretToken.generate(bytes: 16))
        return try? await validator.keys.sign(payload, type: IdentityAssertion.mediaType)
    }

    /// The MCP server's response, its headers as the policy returns them
    /// (`ProxyHeaderPolicy.returnedResponseHeaders`: hop-by-hop, cookies and
    /// its challenge removed, `Location` mapped, `private`, HTML sandboxed),
    /// its body passed on chunk by chunk as the client reads (back-pressure
    /// reaches the MCP server through AsyncHTTPClient).
    /// A stream flows within `watch` (`StreamAuthority`: it ends at the
    /// token's expiry, the stream lifetime, or its grant's revocation).
    func streamed(_ upstream: HTTPClientResponse, request: Request, route: GatewayRoute, watch: StreamWatch?, logger: Logger) async -> Response {
        var headers = HTTPFields()
        let fields = upstream.headers.map { (name: $0.name, value: $0.value) }
        for field in ProxyHeaderPolicy.returnedResponseHeaders(
            fields, status: Int(upstream.status.code), upstreamBase: route.upstreamBase,
            publicURL: route.resource, challenge: route.challenge)
        {
            if let name = HTTPField.Name(field.name) { headers.append(HTTPField(name: name, value: field.value)) }
        }
        let isStream = upstream.headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") == true
        let watchClient = isStream && cancelsOnClientClose
        // Watching the client's connection for its close reads past this
        // request, so the server closes the connection after the stream:
        // say so, or a client reusing it fails its next request.
        if watchClient { headers[.connection] = "close" }
        let length = upstream.headers.first(name: "content-length").flatMap { Int($0) }
        let status = HTTPResponse.Status(code: Int(upstream.status.code), reasonPhrase: upstream.status.reasonPhrase)
        if !isStream, let length, length <= Self.collectedBodyLimit {
            // A small JSON answer of known length is read whole before the head
            // is sent: fewer hops per request; only streams must flow as they come.
            do {
                let buffer = try await upstream.body.collect(upTo: length)
                return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
            } catch {
                logger.warning("gateway: MCP server's answer broke off", metadata: ["error": "\(error)"])
                return GatewayResponses.jsonRPCError(.badGateway, "MCP server answer incomplete")
            }
        }
        let body = ResponseBody(contentLength: length) { writer in
            if watchClient {
                // MCP Streamable HTTP "Cancellation": closing the SSE stream
                // cancels the request; the upstream call is cancelled with it.
                do {
                    try await request.body.consumeWithCancellationOnInboundClose { _ in
                        try await StreamWatch.copy(upstream.body, to: &writer, watch: watch, logger: logger)
                    }
                } catch is CancellationError {
                    logger.debug("gateway: client closed the stream; upstream call cancelled")
                    return
                }
            } else {
                try await StreamWatch.copy(upstream.body, to: &writer, watch: watch, logger: logger)
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Bodies of known length up to this size are passed on whole.
    static let collectedBodyLimit = 64 * 1024
}

/// Writes trace context into outbound headers.
struct TraceHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: key, value: value)
    }
}
