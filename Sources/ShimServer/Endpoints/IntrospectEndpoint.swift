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
enum IntrospectEndpoint {
    static func handle(_ request: Request, _ context: ShimRequestContext, _ services: ShimServices) async throws -> Response {
        var request = request
        do {
            let form = try await RequestParameters.form(&request, maxBytes: services.config.maxBodyBytes)
            let caller = try authenticate(request, form: form, services: services)
            guard let token = form["token"] else { throw OAuthError.invalidRequest("token is missing") }
            guard let validator = services.tokenValidator else { return encoded(.inactive) }
            do {
                let claims = try await validator.validate(token, resource: nil, allowedAudiences: Set(caller.resources), now: services.now)
                context.logger.debug("introspection: active", metadata: ["caller": "\(caller.id)", "jti": "\(claims.tokenID.prefix(8))"])
                return encoded(.active(claims))
            } catch let problem as TokenProblem {
                context.logger.info("introspection: inactive", metadata: ["caller": "\(caller.id)", "reason": "\(problem)",
                                                                          "token": "\(SecretToken.logTag(token))"])
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
    static func authenticate(_ request: Request, form: [String: String], services: ShimServices) throws(OAuthError) -> IntrospectionClient {
        var id = form["client_id"], secret = form["client_secret"]
        if let header = request.headers[.authorization] {
            guard id == nil, secret == nil, let credentials = HTTPBasicCredentials(header) else {
                throw .invalidClient("use HTTP Basic with the introspection credentials")
            }
            id = credentials.id
            secret = credentials.secret
        }
        guard let id, let secret,
              let caller = IntrospectionClient.authenticate(id: id, secret: secret, among: services.config.introspectionClients) else {
            throw .invalidClient("introspection requires a configured resource-server credential")
        }
        return caller
    }

    static func encoded(_ answer: IntrospectionResponse) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(answer)) ?? Data(#"{"active":false}"#.utf8)
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// GET /jwks.json: the public keys of issued tokens (RFC 7517 §5), current
/// and previous; 404 when the shim issues no tokens of its own.
enum KeysEndpoint {
    static func handle(_ services: ShimServices) -> Response {
        guard services.signingKeys != nil else {
            return JSONResponse.make(["error": "invalid_request", "error_description": "this server publishes no keys"], status: .notFound)
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
                        body: .init(byteBuffer: services.jwksBody))
    }

    static func encoded(_ services: ShimServices) -> ByteBuffer {
        guard let keys = services.signingKeys else { return ByteBuffer() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ByteBuffer(bytes: (try? encoder.encode(keys.jwks)) ?? Data())
    }
}
