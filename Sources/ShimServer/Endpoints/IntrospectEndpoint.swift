import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ShimCore
import ShimStorage
import ShimTokens

/// POST /introspect (RFC 7662) for `issued` tokens, for resource servers
/// configured in `introspection.clients`. A token is active when its
/// signature, claims and grant are good (`IssuedTokenValidator`) and its
/// audience is a resource this caller may introspect.
struct IntrospectEndpoint: Sendable {
    let validator: IssuedTokenValidator
    /// `introspection.clients`: who may ask, and for which audiences.
    let callers: [IntrospectionClient]
    let clock: any ShimClock
    let maxBodyBytes: Int

    func handle(_ request: Request, _ context: ShimRequestContext) async throws -> Response {
        var request = request
        do {
            let form = try await RequestParameters.form(&request, maxBytes: maxBodyBytes)
            let caller = try authenticate(request, form: form)
            guard let token = form["token"] else { throw OAuthError.invalidRequest("token is missing") }
            do {
                let claims = try await validator.validate(token, resource: nil, allowedAudiences: Set(caller.resources), now: clock.now())
                context.logger.debug("introspection: active", metadata: ["caller": "\(caller.id)", "jti": "\(claims.tokenID.prefix(8))"])
                return encoded(.active(claims))
            } catch let problem as TokenProblem {
                context.logger.info(
                    "introspection: inactive",
                    metadata: [
                        "caller": "\(caller.id)", "reason": "\(problem)",
                        "token": "\(SecretToken.logTag(token))",
                    ])
                return encoded(.inactive)
            } catch {
                // A store that cannot answer must never turn into "active".
                throw OAuthError(.temporarilyUnavailable, "token status is unavailable; try again", detail: "store: \(error)")
            }
        } catch let error as OAuthError {
            throw OAuthJSONError(error: error, basicChallenge: error.code == .invalidClient)
        }
    }

    /// RFC 7662 §2.1: "the authorization server MUST require some form of
    /// authorization to access this endpoint": HTTP Basic or
    /// `client_id`/`client_secret` in the body, as configured.
    func authenticate(_ request: Request, form: [String: String]) throws(OAuthError) -> IntrospectionClient {
        var id = form["client_id"]
        var secret = form["client_secret"]
        if let header = request.headers[.authorization] {
            guard id == nil, secret == nil, let credentials = HTTPBasicCredentials(header) else {
                throw .invalidClient("use HTTP Basic with the introspection credentials")
            }
            id = credentials.id
            secret = credentials.secret
        }
        guard let id, let secret,
            let caller = IntrospectionClient.authenticate(id: id, secret: secret, among: callers)
        else {
            throw .invalidClient("introspection requires a configured resource-server credential")
        }
        return caller
    }

    func encoded(_ answer: IntrospectionResponse) -> Response {
        JSONResponse.make(answer)
    }
}
