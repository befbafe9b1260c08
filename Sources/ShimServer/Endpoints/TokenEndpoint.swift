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
            let supported = supportedGrantTypes(services)
            guard client.grantTypes.contains(grantType), supported.contains(grantType) else {
                if supported.contains(grantType) {
                    throw OAuthError(.unauthorizedClient, "this client may not use the \(grantType) grant")
                }
                throw OAuthError(.unsupportedGrantType, "grant_type must be one of " + supported.joined(separator: ", "))
            }
            let body: [String: Any]
            switch grantType {
            case "authorization_code":
                body = try await authorizationCode(form, client: client, services: services, context: context)
            case "refresh_token":
                body = try await refreshToken(form, client: client, services: services, context: context)
            case EMAProtocol.jwtBearerGrant:
                body = try await jwtBearer(form, client: client, services: services, context: context)
            case EMAProtocol.tokenExchangeGrant:
                body = try await tokenExchange(form, client: client, services: services, context: context)
            default:
                throw OAuthError(.unsupportedGrantType, "grant_type must be one of " + supported.joined(separator: ", "))
            }
            return JSONResponse.make(body)
        } catch let error as OAuthError {
            throw OAuthJSONError(error: error)
        }
    }

    /// The grants this server serves (and advertises in `grant_types_supported`):
    /// jwt-bearer when it accepts ID-JAGs, token-exchange when it issues them.
    static func supportedGrantTypes(_ services: ShimServices) -> [String] {
        ["authorization_code", "refresh_token"]
            + (services.config.ema.acceptsAssertions ? [EMAProtocol.jwtBearerGrant] : [])
            + (services.config.ema.issuer.enabled ? [EMAProtocol.tokenExchangeGrant] : [])
    }
}
