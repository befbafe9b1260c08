import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// An OAuth error answered directly as RFC 6749 §5.2 JSON (token,
/// registration, revocation endpoints). `Cache-Control: no-store` as §5.1
/// requires of token responses.
struct OAuthJSONError: HTTPResponseError {
    let error: OAuthError
    /// RFC 6749 §5.2: a 401 after HTTP Basic MUST carry WWW-Authenticate.
    var basicChallenge = false
    var retryAfter: Int?

    var status: HTTPResponse.Status { .init(code: error.status) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        if error.status >= 500 || error.detail != nil {
            context.logger.warning("oauth error", metadata: ["error": "\(error.code.rawValue)", "detail": "\(error.detail ?? error.description)"])
        }
        var response = JSONResponse.make(error.jsonBody, status: status)
        if basicChallenge { response.headers[.wwwAuthenticate] = "Basic realm=\"dcr-shim\"" }
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}

/// An error before the redirect_uri is validated (rule 2): shown to the user
/// as a page (or JSON when asked), never redirected.
struct ErrorPage: HTTPResponseError {
    let error: OAuthError
    var retryAfter: Int?

    var status: HTTPResponse.Status { .init(code: error.status) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        context.logger.notice("error page", metadata: ["error": "\(error.code.rawValue)", "detail": "\(error.detail ?? error.description)"])
        var response = request.headers[.accept]?.contains("application/json") == true
            ? JSONResponse.make(error.jsonBody, status: status)
            : HTMLPage.response(status: status, html: HTMLPage.errorPage(error))
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}

enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok, cache: String = "no-store") -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        let headers: HTTPFields = [.contentType: "application/json", .cacheControl: cache]
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A typed body, encoded with sorted keys and unescaped slashes.
    static func make(encoding value: some Encodable, status: HTTPResponse.Status = .ok, cache: String = "no-store") -> Response {
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
