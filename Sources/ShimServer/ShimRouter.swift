import Foundation
import HTTPTypes
public import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// Builds the router: one route per endpoint of DESIGN.md.
public enum ShimRouter {
    public static func build(_ services: ShimServices) -> Router<ShimRequestContext> {
        let router = Router(context: ShimRequestContext.self)
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
        api.post("token") { try await TokenEndpoint.handle($0, $1, services) }
        api.post("revoke") { try await RevokeEndpoint.handle($0, $1, services) }
        router.get("healthz") { _, _ in HealthEndpoint.live() }
        router.get("readyz") { _, context in await HealthEndpoint.ready(services, context: context) }
        router.get("metrics") { _, _ in HealthEndpoint.metrics(services) }
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

/// Anything thrown that is not already an HTTP answer (a store failure, a
/// bug) becomes a 500 with an OAuth-shaped body and a log line; the
/// client sees no internals.
struct StoreErrorMiddleware: RouterMiddleware {
    typealias Context = ShimRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch let error as OAuthError {
            throw OAuthJSONError(error: error)
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw OAuthJSONError(error: OAuthError(.serverError, "internal error", status: 500))
        }
    }
}
