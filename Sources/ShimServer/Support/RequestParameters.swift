import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ShimCore
import ShimStorage
import ShimUpstream

/// Rule 10: strict parsing of query strings and form bodies.
enum RequestParameters {
    /// The query string, with repeated names refused.
    static func query(_ request: Request) throws(OAuthError) -> [String: String] {
        try FormEncoding.decode(request.uri.query ?? "")
    }

    /// A form body (RFC 6749 §3.2 requires application/x-www-form-urlencoded
    /// at the token endpoint), limited to `maxBytes`.
    static func form(_ request: inout Request, maxBytes: Int) async throws(OAuthError) -> [String: String] {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/x-www-form-urlencoded" else {
            throw .invalidRequest("Content-Type must be application/x-www-form-urlencoded")
        }
        let text = String(decoding: try await body(&request, maxBytes: maxBytes).readableBytesView, as: UTF8.self)
        return try FormEncoding.decode(text)
    }

    /// The raw body, or `invalid_request` with status 413 when over the limit.
    static func body(_ request: inout Request, maxBytes: Int) async throws(OAuthError) -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: maxBytes)
        } catch {
            throw OAuthError(.invalidRequest, "request body is larger than \(maxBytes) bytes", status: 413)
        }
    }
}
