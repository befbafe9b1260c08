import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ShimCore

/// RFC 8414 metadata at its well-known names. The document never changes
/// while the process runs: it is encoded once, when the routes are built,
/// and served from the same bytes.
struct MetadataEndpoint: Sendable {
    let body: ByteBuffer

    init(_ metadata: AuthorizationServerMetadata) {
        body = ByteBuffer(bytes: JSONResponse.encoded(metadata))
    }

    func handle() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"], body: .init(byteBuffer: body))
    }
}
