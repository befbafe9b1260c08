import HTTPTypes
import Hummingbird
import ShimCore

/// Rule 17: CORS on the authorization server's public endpoints
/// (`CORSPolicy.authorizationServerMethods`). A preflight to one of them is
/// answered 204 here, before the endpoint and its limits (a preflight
/// carries no credentials and changes nothing); every other answer of
/// theirs, errors included, gets the CORS headers. Every other path passes
/// through untouched: the browser-navigation endpoints keep their cookie
/// and CSRF defences, and the gateway's routes have their own CORS.
struct AuthorizationServerCORSMiddleware: RouterMiddleware {
    typealias Context = ShimRequestContext
    /// The issuer's path ("" or "/auth").
    let pathPrefix: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let methods = CORSPolicy.authorizationServerMethods(path: request.uri.path, pathPrefix: pathPrefix) else {
            return try await next(request, context)
        }
        if CORSPolicy.isPreflight(
            method: request.method.rawValue, origin: request.headers[.origin],
            requestMethod: request.headers[.accessControlRequestMethod])
        {
            return Response(status: .noContent, headers: Self.fields(CORSPolicy.authorizationServerPreflightHeaders(methods: methods)))
        }
        var response = try await next(request, context)
        for field in Self.fields(CORSPolicy.authorizationServerResponseHeaders) {
            response.headers[field.name] = field.value
        }
        return response
    }

    static func fields(_ headers: [(name: String, value: String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        return fields
    }
}
