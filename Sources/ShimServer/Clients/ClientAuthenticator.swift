import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// RFC 6749 §2.3 client authentication at /token and /revoke, by the method
/// the client registered. Failures are 401 `invalid_client`, which makes
/// clients such as Claude register again. Runs once per request, before
/// any grant or the revocation sees the client.
struct ClientAuthenticator: Sendable {
    let clients: ClientResolver

    func authenticate(_ request: Request, form: [String: String], clientAddress: String?, logger: Logger) async throws -> RegisteredClient {
        var basic: (id: String, secret: String)?
        if let header = request.headers[.authorization] {
            guard HTTPBasicCredentials.isBasic(header) else {
                throw OAuthJSONError(error: .invalidClient("only HTTP Basic client authentication is supported"), basicChallenge: true)
            }
            guard let credentials = HTTPBasicCredentials(header) else {
                throw OAuthJSONError(error: .invalidClient("malformed HTTP Basic credentials"), basicChallenge: true)
            }
            basic = (credentials.id, credentials.secret)
        }
        if let basic, let bodyID = form["client_id"], bodyID != basic.id {
            throw OAuthJSONError(error: .invalidRequest("client_id in the body differs from the authenticated client"))
        }
        guard let clientID = basic?.id ?? form["client_id"] else {
            throw OAuthJSONError(error: .invalidClient("client authentication is required"))
        }
        // A CIMD client is authenticated as the public client its document
        // describes (re-fetched when the cached copy expired): a document that
        // is gone or no longer valid stops its tokens from being refreshed.
        // A metadata-document client the shim has never seen at /authorize holds
        // no code and no refresh token: refused without fetching its document,
        // so an unauthenticated caller gets neither outbound fetches nor rows.
        if CIMDClientID.isCandidate(clientID) {
            let seen: Bool
            do { seen = try await clients.store.cimdClient(url: clientID) != nil } catch {
                throw OAuthJSONError(error: OAuthError(.temporarilyUnavailable, "the client registry is unavailable", detail: "\(error)"))
            }
            guard seen else {
                throw OAuthJSONError(
                    error: .invalidClient("unknown client; sign in again", detail: "metadata document never seen at /authorize"),
                    basicChallenge: basic != nil)
            }
        }
        let client: RegisteredClient?
        do { client = try await clients.resolve(id: clientID, clientAddress: clientAddress, logger: logger)?.client } catch let error as OAuthError
            where error.code == .temporarilyUnavailable
        {
            logger.notice("client document unavailable", metadata: ["client_id": "\(clientID)", "detail": "\(error.detail ?? "")"])
            throw OAuthJSONError(error: error, retryAfter: 5)
        } catch let error as OAuthError {
            throw OAuthJSONError(error: OAuthError(.invalidClient, error.description, detail: error.detail), basicChallenge: basic != nil)
        } catch {
            throw OAuthJSONError(error: OAuthError(.temporarilyUnavailable, "the client registry is unavailable", detail: "\(error)"))
        }
        guard let client else {
            throw OAuthJSONError(error: .invalidClient("unknown client; register again", detail: "unknown client_id"), basicChallenge: basic != nil)
        }
        let presented: String?
        switch client.tokenEndpointAuthMethod {
        case .none:
            // RFC 6749 §4.1.3: "authenticate the client if client authentication
            // is included". A public client has no secret, so one that presents
            // a secret is not authenticated, it is refused.
            if basic != nil || form["client_secret"] != nil {
                throw OAuthJSONError(
                    error: .invalidClient(
                        "this client is public (token_endpoint_auth_method none) and has no secret",
                        detail: "public client \(clientID) presented a secret"), basicChallenge: basic != nil)
            }
            presented = nil
        case .clientSecretBasic:
            presented = basic?.secret
        case .clientSecretPost:
            presented = basic == nil ? form["client_secret"] : nil
        }
        if client.tokenEndpointAuthMethod != .none {
            guard let presented, let hash = client.clientSecretHash,
                SecretToken.constantTimeEqual(SecretToken.hash(presented), hash)
            else {
                throw OAuthJSONError(error: .invalidClient(detail: "bad secret or method for \(clientID)"), basicChallenge: basic != nil)
            }
        }
        return client
    }
}
