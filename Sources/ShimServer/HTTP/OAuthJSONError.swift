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
