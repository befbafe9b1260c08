import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// POST /revoke (RFC 7009). A shim refresh token revokes its whole grant
/// here and its refresh token at the IdP. Access tokens are the IdP's in
/// `upstream` mode; they are revoked by revoking the grant's refresh token.
enum RevokeEndpoint {
    static func handle(_ request: Request, _ context: ShimRequestContext, _ services: ShimServices) async throws -> Response {
        var request = request
        do {
            let form = try await RequestParameters.form(&request, maxBytes: services.config.maxBodyBytes)
            let client = try await ClientAuthentication.authenticate(request, form: form, services: services, logger: context.logger)
            guard let token = form["token"] else { throw OAuthError.invalidRequest("token is missing") }
            // §2.2: an invalid or unknown token gets 200 with no change. §2.1: a
            // token issued to another client is refused (the caller learns only
            // that this token is not its own; it changes nothing).
            let record = try await services.store.refreshToken(hash: SecretToken.hash(token))
            if let record, record.clientID != client.clientID {
                context.logger.warning("revocation of another client's token refused", metadata: ["client_id": "\(client.clientID)"])
                throw OAuthError(.unauthorizedClient, "the token was not issued to this client")
            }
            if let record {
                let grant = try await services.store.grant(id: record.grantID)
                try await RefreshFamily.revoke(grantID: record.grantID, upstream: grant?.upstream, services: services)
                await Audit.record(AuditEvent(at: services.now, kind: .revocation, clientID: client.clientID, clientName: client.clientName,
                                              subject: grant?.subject, resource: grant?.resource, detail: "grant " + record.grantID.prefix(8)),
                                   services: services, logger: context.logger)
            }
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        } catch let error as OAuthError {
            throw OAuthJSONError(error: error)
        }
    }
}
