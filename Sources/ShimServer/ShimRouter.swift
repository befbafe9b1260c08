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
        // First: every other middleware, endpoint and gateway route runs inside the request's span.
        router.add(middleware: RequestSpanMiddleware())
        router.add(middleware: ClientAddressMiddleware(resolver: services.clientAddress))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: SecurityHeadersMiddleware())
        // Rule 17: outside the error middleware, so error answers get the CORS headers too.
        router.add(middleware: AuthorizationServerCORSMiddleware(pathPrefix: services.pathPrefix))
        router.add(middleware: StoreErrorMiddleware())
        let prefix = services.pathPrefix
        let metadata = MetadataEndpoint(
            AuthorizationServerMetadata(
                config: services.config, grantTypes: services.token.supportedGrantTypes, scopes: services.resourcePolicy.supportedScopes,
                documentsAccepted: services.cimdPolicy.enabled, publishesKeys: services.signingKeys != nil))
        // RFC 8414 §3.1: metadata is path-inserted when the issuer has a path;
        // OIDC Discovery appends. Both names serve the same document.
        router.get(RouterPath("/.well-known/oauth-authorization-server" + prefix)) { _, _ in metadata.handle() }
        router.get(RouterPath(prefix + "/.well-known/openid-configuration")) { _, _ in metadata.handle() }
        if !prefix.isEmpty {
            router.get(RouterPath("/.well-known/openid-configuration" + prefix)) { _, _ in metadata.handle() }
        }
        let api = router.group(RouterPath(prefix.isEmpty ? "/" : prefix))
        let register = services.register
        let authorize = services.authorize
        let consent = services.consent
        let callback = services.callback
        let token = services.token
        let revoke = services.revoke
        api.post("register") { try await register.handle($0, $1) }
        api.get("authorize") { try await authorize.handle($0, $1) }
        api.get("consent") { try await consent.show($0, $1) }
        api.post("consent") { try await consent.decide($0, $1) }
        api.get("callback") { try await callback.handle($0, $1) }
        api.post("token") { try await token.handle($0, $1) }
        api.post("revoke") { try await revoke.handle($0, $1) }
        let keys = KeysEndpoint(services.signingKeys)
        api.get("jwks.json") { _, _ in keys.handle() }
        if services.config.accessTokenMode == .issued, let validator = services.tokenValidator {
            let introspect = IntrospectEndpoint(
                validator: validator, callers: services.config.introspectionClients, clock: services.clock,
                maxBodyBytes: services.config.maxBodyBytes)
            api.post("introspect") { try await introspect.handle($0, $1) }
        }
        let health = HealthEndpoint(store: services.store, upstream: services.upstream, metricsRegistry: services.metricsRegistry)
        router.get("healthz") { _, _ in health.live() }
        router.get("readyz") { _, context in await health.ready(context: context) }
        router.get("metrics") { _, _ in health.metrics() }
        // api_description.path: a path of its own on the host (checked by check-config), off by default.
        if let path = services.config.operations.apiDescriptionPath {
            let description = APIDescriptionEndpoint()
            router.get(RouterPath(path)) { _, _ in description.handle() }
        }
        // Rule 10: a known endpoint called with the wrong method gets 405 and an
        // OAuth error (RFC 9110 §15.5.6), not a bare 404.
        for (path, allowed) in [
            ("register", [HTTPRequest.Method.post]), ("token", [.post]), ("revoke", [.post]), ("introspect", [.post]),
            ("authorize", [.get]), ("callback", [.get]), ("consent", [.get, .post]),
        ] {
            for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where !allowed.contains(method) {
                api.on(RouterPath(path), method: method) { _, _ -> Response in
                    var response = JSONResponse.make(
                        ["error": "invalid_request", "error_description": "method not allowed"],
                        status: .methodNotAllowed)
                    response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                    return response
                }
            }
        }
        return router
    }
}
