import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage

/// Every error becomes a response here, inside the security-headers
/// middleware, so error responses carry the same headers. Anything that is
/// not already an HTTP answer (a store failure, a bug) becomes a 500 with an
/// OAuth-shaped body and a log line; the client sees no internals.
struct StoreErrorMiddleware: RouterMiddleware {
    typealias Context = ShimRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        } catch let error as OAuthError {
            return try OAuthJSONError(error: error).response(from: request, context: context)
        } catch let error as StoreBusy {
            // Another replica's refresh of the same grant did not finish in time: retryable.
            context.logger.warning("refresh lease not obtained", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return try OAuthJSONError(
                error: OAuthError(.temporarilyUnavailable, "the grant is being refreshed elsewhere; retry shortly"),
                retryAfter: 1
            ).response(from: request, context: context)
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return try OAuthJSONError(error: OAuthError(.serverError, "internal error", status: 500)).response(from: request, context: context)
        }
    }
}
