import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore

/// POST /token (RFC 6749 §3.2): the form is read, the client authenticated
/// once, its right to the grant type checked, then the grant's handler runs.
struct TokenEndpoint: Sendable {
    let authenticator: ClientAuthenticator
    /// The grants this server serves, in the order metadata lists them.
    let handlers: [any GrantHandler]
    let maxBodyBytes: Int

    /// `grant_types_supported` (RFC 8414 §2).
    var supportedGrantTypes: [GrantType] { handlers.map(\.grantType) }

    func handle(_ request: Request, _ context: ShimRequestContext) async throws -> Response {
        var request = request
        do {
            let form = try await RequestParameters.form(&request, maxBytes: maxBodyBytes)
            guard let name = form["grant_type"] else { throw OAuthError.invalidRequest("grant_type is missing") }
            let client = try await authenticator.authenticate(
                request, form: form, clientAddress: context.clientAddress?.limitKey,
                logger: context.logger)
            guard let handler = handlers.first(where: { $0.grantType.rawValue == name }) else {
                throw OAuthError(.unsupportedGrantType, "grant_type must be one of " + supportedGrantTypes.map(\.rawValue).joined(separator: ", "))
            }
            guard client.mayUse(handler.grantType) else {
                throw OAuthError(.unauthorizedClient, "this client may not use the \(name) grant")
            }
            return JSONResponse.make(try await handler.exchange(form, client: client, logger: context.logger))
        } catch let error as OAuthError {
            throw OAuthJSONError(error: error)
        }
    }
}
