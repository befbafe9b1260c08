import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ShimTokens

/// GET /jwks.json: the public keys of issued tokens (RFC 7517 §5), current
/// and previous, encoded once; 404 when the shim issues no tokens of its own.
struct KeysEndpoint: Sendable {
    let body: ByteBuffer?

    init(_ keys: SigningKeys?) {
        body = keys.map { ByteBuffer(bytes: JSONResponse.encoded($0.jwks)) }
    }

    func handle() -> Response {
        guard let body else {
            return JSONResponse.make(["error": "invalid_request", "error_description": "this server publishes no keys"], status: .notFound)
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: body))
    }
}
