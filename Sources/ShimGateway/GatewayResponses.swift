import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ShimCore

/// The answers the gateway gives itself (the MCP server's own pass through).
enum GatewayResponses {
    /// RFC 6750 §3 / RFC 9728 §5.1: 401 with the challenge; `Cache-Control:
    /// no-store` (RFC 6750 §5.3 on responses about tokens).
    static func unauthorized(_ route: GatewayRoute, error: String?, description: String?) -> Response {
        var response = json(
            ["error": error ?? "invalid_request", "error_description": description ?? "a bearer token is required"],
            status: .unauthorized)
        response.headers[.wwwAuthenticate] = BearerChallenge.header(
            resourceMetadata: route.metadataURL, scope: route.challengeScopes,
            error: error, description: description)
        return response
    }

    /// RFC 6750 §3.1 `insufficient_scope`, SEP-835 step-up: 403 naming every
    /// scope the operation needs in one challenge (MCP authorization "Runtime
    /// Insufficient Scope Errors").
    static func insufficientScope(_ route: GatewayRoute) -> Response {
        let description = "this resource requires the scopes " + route.requiredScopes.joined(separator: " ")
        var response = json(["error": "insufficient_scope", "error_description": description], status: .forbidden)
        response.headers[.wwwAuthenticate] = BearerChallenge.header(
            resourceMetadata: route.metadataURL, scope: route.requiredScopes,
            error: "insufficient_scope", description: description)
        return response
    }

    /// MCP Streamable HTTP: an error status whose body "MAY comprise a
    /// JSON-RPC error response that has no id". Used for a bad Origin (403),
    /// a host this server does not answer for (421), an oversized body (413),
    /// the MCP server down (502) or silent (504), and the gateway's
    /// connections, a store or the IdP unable to answer now (503). -32000 is
    /// JSON-RPC 2.0's implementation-defined server error. A 503 always says
    /// when to retry (RFC 9110 §10.2.3 `Retry-After`): it is temporary.
    static func jsonRPCError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = #"{"jsonrpc":"2.0","error":{"code":-32000,"message":"\#(message)"}}"#
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        if status == .serviceUnavailable { headers[.retryAfter] = String(retryAfterSeconds) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Seconds a client waits before retrying after a 503.
    static let retryAfterSeconds = 2

    /// The MCP server could not be called or did not answer; every failure
    /// of the HTTP client maps here, one way:
    ///
    /// * no free connection to the MCP server within `gateway.connect_timeout`
    ///   (`gateway.max_connections` are all busy): 503 with `Retry-After`,
    ///   the gateway is saturated and the request was never sent;
    /// * a connection or an answer that did not come in time (connect,
    ///   read, `gateway.response_timeout`): 504;
    /// * anything else (refused, reset, a broken answer): 502.
    static func upstreamFailure(_ error: any Error) -> Response {
        guard let error = error as? HTTPClientError else { return jsonRPCError(.badGateway, "MCP server unavailable") }
        if error == .getConnectionFromPoolTimeout { return jsonRPCError(.serviceUnavailable, "MCP server busy; retry") }
        if Self.timeouts.contains(error) { return jsonRPCError(.gatewayTimeout, "MCP server did not answer in time") }
        return jsonRPCError(.badGateway, "MCP server unavailable")
    }

    static let timeouts: [HTTPClientError] = [.deadlineExceeded, .connectTimeout, .readTimeout, .tlsHandshakeTimeout]

    /// The answer to a CORS preflight from an allowed origin (`CORSPolicy`):
    /// 204, before any token check (a preflight carries none).
    static func preflight(origin: String, requestedHeaders: String?) -> Response {
        var headers = HTTPFields()
        for (name, value) in CORSPolicy.preflightHeaders(origin: origin, requestedHeaders: requestedHeaders) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        return Response(status: .noContent, headers: headers)
    }

    static func json(_ object: [String: String], status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// RFC 9728 §3.2: the metadata document, readable from any origin (it is
    /// public); `preflight` answers its CORS preflight.
    static func metadata(_ route: GatewayRoute, preflight: Bool = false, requestedHeaders: String? = nil) -> Response {
        var headers: HTTPFields = preflight ? [:] : [.contentType: "application/json", .cacheControl: "public, max-age=300"]
        for (name, value) in CORSPolicy.publicDocumentHeaders(preflight: preflight, requestedHeaders: requestedHeaders) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        if preflight { return Response(status: .noContent, headers: headers) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: route.metadataBody)))
    }
}
