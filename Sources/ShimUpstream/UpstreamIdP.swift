public import Foundation
public import ShimCore

/// What the shim needs from the identity provider. `OIDCUpstream` speaks to a
/// real one over HTTP; tests may substitute their own.
public protocol UpstreamIdP: Sendable {
    /// The authorization URL the browser is sent to (RFC 6749 §4.1.1).
    func authorizationURL(state: String, codeChallenge: String, nonce: String?, scope: ScopeSet) async throws(OAuthError) -> String
    /// Exchanges the upstream code (RFC 6749 §4.1.3) with the shim's own verifier.
    func exchangeCode(_ code: String, codeVerifier: String) async throws(OAuthError) -> UpstreamTokenResponse
    /// Refreshes upstream (RFC 6749 §6).
    func refresh(_ refreshToken: String, scope: ScopeSet) async throws(OAuthError) -> UpstreamTokenResponse
    /// Revokes an upstream refresh token (RFC 7009) when the IdP offers it; best effort.
    func revoke(refreshToken: String) async
    /// Whether the IdP's endpoints are known (discovery succeeded or not needed).
    func isReady() async -> Bool
}

/// A successful upstream token response (RFC 6749 §5.1).
public struct UpstreamTokenResponse: Sendable, Equatable {
    public var accessToken: String
    public var tokenType: String
    public var expiresIn: Int?
    public var refreshToken: String?
    public var scope: String?
    public var idToken: String?

    public init(accessToken: String, tokenType: String, expiresIn: Int?, refreshToken: String?, scope: String?, idToken: String?) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
        self.scope = scope
        self.idToken = idToken
    }

    /// Parses §5.1 JSON; a response without `access_token` or `token_type`
    /// is invalid. Typed: unknown members are ignored, a member of the wrong
    /// type counts as absent. `expires_in` may be a number or a numeric
    /// string (IdPs send both) and is clamped by `Clamp.tokenLifetime`
    /// (issue 11, finding 6: a huge value used to trap on the way out).
    public static func parse(_ body: Data) throws(OAuthError) -> UpstreamTokenResponse {
        let fields: Fields
        do { fields = try JSONDecoder().decode(Fields.self, from: body) } catch {
            throw OAuthError(.serverError, "the identity provider sent an invalid token response", detail: "upstream token response is not a JSON object", status: 502)
        }
        guard let access = fields.accessToken, !access.isEmpty else {
            throw OAuthError(.serverError, "the identity provider sent an invalid token response", detail: "upstream token response has no access_token", status: 502)
        }
        let type = fields.tokenType ?? ""
        guard type.lowercased() == "bearer" else {
            throw OAuthError(.serverError, "the identity provider sent an invalid token response", detail: "upstream token_type is \(type.isEmpty ? "missing" : "not bearer")", status: 502)
        }
        return UpstreamTokenResponse(
            accessToken: access, tokenType: "Bearer", expiresIn: fields.expiresIn.flatMap(Clamp.tokenLifetime),
            refreshToken: fields.refreshToken.flatMap { $0.isEmpty ? nil : $0 }, scope: fields.scope, idToken: fields.idToken)
    }

    /// The §5.1 members the shim reads.
    struct Fields: Decodable {
        var accessToken: String?
        var tokenType: String?
        var expiresIn: Double?
        var refreshToken: String?
        var scope: String?
        var idToken: String?

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in"
            case refreshToken = "refresh_token", scope, idToken = "id_token"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            accessToken = try? c.decodeIfPresent(String.self, forKey: .accessToken)
            tokenType = try? c.decodeIfPresent(String.self, forKey: .tokenType)
            refreshToken = try? c.decodeIfPresent(String.self, forKey: .refreshToken)
            scope = try? c.decodeIfPresent(String.self, forKey: .scope)
            idToken = try? c.decodeIfPresent(String.self, forKey: .idToken)
            if let number = try? c.decodeIfPresent(Double.self, forKey: .expiresIn) {
                expiresIn = number
            } else if let text = try? c.decodeIfPresent(String.self, forKey: .expiresIn) {
                expiresIn = Double(text.trimmingCharacters(in: .whitespaces))
            }
        }
    }
}
