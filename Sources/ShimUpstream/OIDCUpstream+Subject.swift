import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1
public import ShimCore

extension OIDCUpstream {
    /// The subject when the token response carried no ID token: GitHub's
    /// `GET /user` `id` (https://docs.github.com/rest/users/users#get-the-authenticated-user;
    /// the numeric id, because a `login` can be renamed and then taken by
    /// someone else), or OIDC Core §5.3 userinfo `sub`. Nil when the IdP has
    /// no such endpoint; an error when it has one and refuses the fresh token.
    public func subject(accessToken: String) async throws(OAuthError) -> String? {
        guard let url = try await endpoints().userinfo else { return nil }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer " + accessToken)
        if profile.preset == .github {
            // https://docs.github.com/rest/using-the-rest-api/getting-started-with-the-rest-api:
            // a User-Agent is required; the media type and version pin the answer's shape.
            request.headers.add(name: "Accept", value: "application/vnd.github+json")
            request.headers.add(name: "X-GitHub-Api-Version", value: "2022-11-28")
        } else {
            request.headers.add(name: "Accept", value: "application/json")
        }
        request.headers.add(name: "User-Agent", value: "dcr-shim")
        let status: Int
        let body: Data
        do {
            (status, body, _) = try await send(request, operation: "userinfo")
        } catch {
            logger.warning("upstream userinfo failed", metadata: ["error": "\(error)"])
            throw OAuthError(.temporarilyUnavailable, "the identity provider cannot be reached; try again later", detail: "userinfo: \(error)")
        }
        guard status == 200, let claims = try? JSONDecoder().decode(UserClaims.self, from: body),
            let subject = profile.preset == .github ? claims.id?.text : claims.sub, !subject.isEmpty
        else {
            logger.warning("upstream userinfo refused", metadata: ["status": "\(status)", "url": "\(url)"])
            throw OAuthError(
                .serverError, "the identity provider did not say who signed in", detail: "userinfo \(status) without a subject", status: 502)
        }
        return String(subject.prefix(255))
    }

    /// `sub` (OIDC userinfo) or `id` (GitHub, a number).
    struct UserClaims: Decodable {
        var sub: String?
        var id: Identifier?

        struct Identifier: Decodable {
            var text: String?
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Int64.self) { text = String(number) } else { text = try? container.decode(String.self) }
            }
        }
    }
}
