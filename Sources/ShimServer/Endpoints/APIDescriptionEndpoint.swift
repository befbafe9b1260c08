import HTTPTypes
import Hummingbird
import NIOCore

/// The API description (docs/openapi.yaml, built into the binary by
/// scripts/embed-openapi.sh) at `api_description.path`; not served unless
/// configured.
///
/// Content-Type `application/yaml` (RFC 9512, registered):
/// `application/openapi+yaml` is still an Internet-Draft
/// (draft-ietf-httpapi-rest-api-mediatypes), and the tools that read an
/// OpenAPI document by URL (schemathesis, Swagger UI, openapi-generator)
/// take `application/yaml`. The document changes only with the binary, so
/// caches may keep it for an hour.
struct APIDescriptionEndpoint: Sendable {
    static let contentType = "application/yaml"
    static let cacheControl = "public, max-age=3600"
    /// Encoded once per process, served from the same bytes.
    static let body = ByteBuffer(string: APIDescriptionDocument.yaml)

    func handle() -> Response {
        Response(
            status: .ok, headers: [.contentType: Self.contentType, .cacheControl: Self.cacheControl],
            body: .init(byteBuffer: Self.body))
    }
}
