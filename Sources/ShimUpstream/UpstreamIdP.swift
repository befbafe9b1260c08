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

    /// Parses §5.1 JSON; a response without `access_token` or `token_type` is invalid.
    public static func parse(_ body: Data) throws(OAuthError) -> UpstreamTokenResponse {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw OAuthError(.serverError, "the identity provider sent an invalid token response", detail: "upstream token response is not a JSON object", status: 502)
        }
        guard let access = object["access_token"] as? String, !access.isEmpty else {
            throw OAuthError(.serverError, "the identity provider sent an invalid token response", detail: "upstream token response has no access_token", status: 502)
        }
        let type = object["token_type"] as? String ?? ""
        guard type.lowercased() == "bearer" else {
            throw OAuthError(.serverError, "the identity provider sent an invalid token response", detail: "upstream token_type is \(type.isEmpty ? "missing" : "not bearer")", status: 502)
        }
        var expiresIn = object["expires_in"] as? Int
        if expiresIn == nil, let text = object["expires_in"] as? String { expiresIn = Int(text) }
        return UpstreamTokenResponse(
            accessToken: access, tokenType: "Bearer", expiresIn: expiresIn,
            refreshToken: (object["refresh_token"] as? String).flatMap { $0.isEmpty ? nil : $0 },
            scope: object["scope"] as? String, idToken: object["id_token"] as? String)
    }
}
