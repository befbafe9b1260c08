import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// An error before the redirect_uri is validated (rule 2): shown to the user
/// as a page (or JSON when asked), never redirected.
struct ErrorPage: HTTPResponseError {
    let error: OAuthError
    var retryAfter: Int?

    var status: HTTPResponse.Status { .init(code: error.status) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        context.logger.notice("error page", metadata: ["error": "\(error.code.rawValue)", "detail": "\(error.detail ?? error.description)"])
        var response =
            request.headers[.accept]?.contains("application/json") == true
            ? JSONResponse.make(error.jsonBody, status: status)
            : HTMLPage.response(status: status, html: HTMLPage.errorPage(error))
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}
