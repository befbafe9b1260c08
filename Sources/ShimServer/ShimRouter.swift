import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// Builds the router: one route per endpoint (docs/endpoints.md).
public enum ShimRouter {
    public static func build(_ services: ShimServices) -> Router<ShimRequestContext> {
        let router = Router(context: ShimRequestContext.self)
        router.add(middleware: ClientAddressMiddleware(resolver: services.clientAddress))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: StoreErrorMiddleware())
        let prefix = services.pathPrefix
        // RFC 8414 §3.1: metadata is path-inserted when the issuer has a path;
        // OIDC Discovery appends. Both names serve the same document.
        router.get(RouterPath("/.well-known/oauth-authorization-server" + prefix)) { _, _ in MetadataEndpoint.handle(services) }
        router.get(RouterPath(prefix + "/.well-known/openid-configuration")) { _, _ in MetadataEndpoint.handle(services) }
        if !prefix.isEmpty {
            router.get(RouterPath("/.well-known/openid-configuration" + prefix)) { _, _ in MetadataEndpoint.handle(services) }
        }
        let api = router.group(RouterPath(prefix.isEmpty ? "/" : prefix))
        api.post("register") { try await RegisterEndpoint.handle($0, $1, services) }
        api.get("authorize") { try await AuthorizeEndpoint.handle($0, $1, services) }
        api.get("consent") { try await ConsentEndpoint.show($0, $1, services) }
        api.post("consent") { try await ConsentEndpoint.decide($0, $1, services) }
        api.get("callback") { try await CallbackEndpoint.handle($0, $1, services) }
        api.post("token") { try await services.tokenEndpoint.handle($0, $1) }
        api.post("revoke") { try await services.revokeEndpoint.handle($0, $1) }
        api.get("jwks.json") { _, _ in KeysEndpoint.handle(services) }
        if services.config.accessTokenMode == .issued {
            api.post("introspect") { try await IntrospectEndpoint.handle($0, $1, services) }
        }
        router.get("healthz") { _, _ in HealthEndpoint.live() }
        router.get("readyz") { _, context in await HealthEndpoint.ready(services, context: context) }
        router.get("metrics") { _, _ in HealthEndpoint.metrics(services) }
        // Rule 10: a known endpoint called with the wrong method gets 405 and an
        // OAuth error (RFC 9110 §15.5.6), not a bare 404.
        for (path, allowed) in [("register", [HTTPRequest.Method.post]), ("token", [.post]), ("revoke", [.post]), ("introspect", [.post]),
                                ("authorize", [.get]), ("callback", [.get]), ("consent", [.get, .post])] {
            for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where !allowed.contains(method) {
                api.on(RouterPath(path), method: method) { _, _ -> Response in
                    var response = JSONResponse.make(["error": "invalid_request", "error_description": "method not allowed"],
                                                     status: .methodNotAllowed)
                    response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                    return response
                }
            }
        }
        return router
    }
}

/// Headers every response carries.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = ShimRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

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
            return try OAuthJSONError(error: OAuthError(.temporarilyUnavailable, "the grant is being refreshed elsewhere; retry shortly"),
                                      retryAfter: 1).response(from: request, context: context)
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return try OAuthJSONError(error: OAuthError(.serverError, "internal error", status: 500)).response(from: request, context: context)
        }
    }
}
