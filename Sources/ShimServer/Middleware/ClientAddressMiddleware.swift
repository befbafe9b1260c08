import HTTPTypes
import Hummingbird
import ShimCore

/// Sets `clientAddress` from the forwarding header when the peer is a
/// trusted proxy (the rule is `ClientAddress`).
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = ShimRequestContext
    let resolver: ClientAddress

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if !resolver.trustedProxies.isEmpty, let name = HTTPField.Name(resolver.header.fieldName) {
            context.clientAddress = resolver.resolve(
                peer: context.remoteAddress.flatMap { IPAddress($0) },
                headerValues: request.headers[values: name])
        }
        return try await next(request, context)
    }
}
