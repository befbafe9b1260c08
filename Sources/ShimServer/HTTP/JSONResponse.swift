import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// JSON answers with `Cache-Control` (RFC 6749 §5.1: `no-store` on token responses).
enum JSONResponse {
    /// A typed body, encoded with sorted keys and unescaped slashes.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, cache: String = "no-store") -> Response {
        make(encoded: encoded(value), status: status, cache: cache)
    }

    static func encoded(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// A body already encoded (typed `Codable` responses).
    static func make(encoded data: Data, status: HTTPResponse.Status = .ok, cache: String = "no-store") -> Response {
        let headers: HTTPFields = [.contentType: "application/json", .cacheControl: cache]
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
