import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimTokens

/// POST /revoke (RFC 7009). A shim refresh token revokes its whole grant
/// here and its refresh token at the IdP. Access tokens are the IdP's in
/// `upstream` mode; they are revoked by revoking the grant's refresh token.
struct RevokeEndpoint: Sendable {
    let authenticator: ClientAuthenticator
    let store: any GrantStore
    let refresher: UpstreamRefresher
    let auditor: Auditor
    let clock: any ShimClock
    /// Verifies issued access tokens (`tokens.access: issued`), nil otherwise.
    let tokenValidator: IssuedTokenValidator?
    let maxBodyBytes: Int

    func handle(_ request: Request, _ context: ShimRequestContext) async throws -> Response {
        var request = request
        do {
            let form = try await RequestParameters.form(&request, maxBytes: maxBodyBytes)
            let client = try await authenticator.authenticate(
                request, form: form, clientAddress: context.clientAddress?.limitKey,
                logger: context.logger)
            guard let token = form["token"] else { throw OAuthError.invalidRequest("token is missing") }
            // §2.2: an invalid or unknown token gets 200 with no change. §2.1: a
            // token issued to another client is refused (the caller learns only
            // that this token is not its own; it changes nothing).
            if let record = try await store.refreshToken(hash: SecretToken.hash(token)) {
                try await revoke(grantID: record.grantID, issuedTo: record.clientID, client: client, what: "", logger: context.logger)
            } else if let tokenValidator,
                let claims = try? await tokenValidator.verify(token, resource: nil, now: clock.now()), let grantID = claims.grantID
            {
                // §2.1 for an issued access token: "If the token passed to the
                // request is an access token, the server MAY revoke the
                // respective refresh token as well" — the shim revokes the
                // grant (`sid`), which ends every token of the family at
                // introspection and at the gateway. A token that does not
                // verify is unknown (§2.2: 200, no change).
                try await revoke(grantID: grantID, issuedTo: claims.clientID, client: client, what: " (access token)", logger: context.logger)
            }
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        } catch let error as OAuthError {
            throw OAuthJSONError(error: error)
        }
    }

    private func revoke(grantID: String, issuedTo owner: String, client: RegisteredClient, what: String, logger: Logger) async throws {
        guard owner == client.clientID else {
            logger.warning("revocation of another client's token refused", metadata: ["client_id": "\(client.clientID)"])
            throw OAuthError(.unauthorizedClient, "the token was not issued to this client")
        }
        let grant = try await store.grant(id: grantID)
        try await refresher.revoke(grantID: grantID, upstream: grant?.upstream)
        await auditor.record(
            AuditEvent(
                at: clock.now(), kind: .revocation, clientID: client.clientID, clientName: client.clientName,
                subject: grant?.subject, resource: grant?.resource, detail: "grant " + grantID.prefix(8) + what),
            logger: logger)
    }
}
