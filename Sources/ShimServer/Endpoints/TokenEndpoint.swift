import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// POST /token (RFC 6749 §3.2): explicit dispatch on grant_type.
enum TokenEndpoint {
    static func handle(_ request: Request, _ context: ShimRequestContext, _ services: ShimServices) async throws -> Response {
        var request = request
        do {
            let form = try await RequestParameters.form(&request, maxBytes: services.config.maxBodyBytes)
            guard let grantType = form["grant_type"] else { throw OAuthError.invalidRequest("grant_type is missing") }
            let client = try await ClientAuthentication.authenticate(request, form: form, services: services, logger: context.logger)
            guard client.grantTypes.contains(grantType) else {
                if ["authorization_code", "refresh_token"].contains(grantType) {
                    throw OAuthError(.unauthorizedClient, "this client did not register the \(grantType) grant")
                }
                throw OAuthError(.unsupportedGrantType, "grant_type must be authorization_code or refresh_token")
            }
            let body: [String: Any]
            switch grantType {
            case "authorization_code":
                body = try await authorizationCode(form, client: client, services: services, context: context)
            case "refresh_token":
                body = try await refreshToken(form, client: client, services: services, context: context)
            default:
                throw OAuthError(.unsupportedGrantType, "grant_type must be authorization_code or refresh_token")
            }
            return JSONResponse.make(body)
        } catch let error as OAuthError {
            throw OAuthJSONError(error: error)
        }
    }
}
