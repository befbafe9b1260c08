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
        guard hasMediaType(request, "application/x-www-form-urlencoded") else {
            throw .invalidRequest("Content-Type must be application/x-www-form-urlencoded")
        }
        let text = String(decoding: try await body(&request, maxBytes: maxBytes).readableBytesView, as: UTF8.self)
        return try FormEncoding.decode(text)
    }

    /// Whether Content-Type names `expected` (lower case), ignoring
    /// parameters such as `charset` and ASCII case (RFC 9110 §8.3.1). Byte
    /// by byte: no Foundation string bridging on every request.
    static func hasMediaType(_ request: Request, _ expected: StaticString) -> Bool {
        guard let header = request.headers[.contentType] else { return false }
        var type = header.utf8.prefix { $0 != UInt8(ascii: ";") }[...]
        while let first = type.first, first == 0x20 || first == 0x09 { type = type.dropFirst() }
        while let last = type.last, last == 0x20 || last == 0x09 { type = type.dropLast() }
        return expected.withUTF8Buffer { wanted in
            type.count == wanted.count
                && zip(type, wanted).allSatisfy { (byte, want) in
                    (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == want
                }
        }
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
