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
        var response = json(["error": error ?? "invalid_request", "error_description": description ?? "a bearer token is required"],
                            status: .unauthorized)
        response.headers[.wwwAuthenticate] = BearerChallenge.header(resourceMetadata: route.metadataURL, scope: route.challengeScopes,
                                                                    error: error, description: description)
        return response
    }

    /// RFC 6750 §3.1 `insufficient_scope`, SEP-835 step-up: 403 naming every
    /// scope the operation needs in one challenge (MCP authorization "Runtime
    /// Insufficient Scope Errors").
    static func insufficientScope(_ route: GatewayRoute) -> Response {
        let description = "this resource requires the scopes " + route.requiredScopes.joined(separator: " ")
        var response = json(["error": "insufficient_scope", "error_description": description], status: .forbidden)
        response.headers[.wwwAuthenticate] = BearerChallenge.header(resourceMetadata: route.metadataURL, scope: route.requiredScopes,
                                                                    error: "insufficient_scope", description: description)
        return response
    }

    /// MCP Streamable HTTP: an error status whose body "MAY comprise a
    /// JSON-RPC error response that has no id". Used for a bad Origin (403),
    /// an oversized body (413), the MCP server down (502) or silent (504), and
    /// a store or IdP that cannot answer (503). -32000 is JSON-RPC 2.0's
    /// implementation-defined server error.
    static func jsonRPCError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let body = #"{"jsonrpc":"2.0","error":{"code":-32000,"message":"\#(message)"}}"#
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func json(_ object: [String: String], status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func metadata(_ route: GatewayRoute) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
                 body: .init(byteBuffer: ByteBuffer(bytes: route.metadataBody)))
    }
}
