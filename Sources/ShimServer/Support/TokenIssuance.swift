import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// Sealing upstream tokens and shaping the client's token response.
enum TokenIssuance {
    /// Seals upstream tokens for storage, bound to their grant.
    static func seal(_ tokens: UpstreamTokenResponse, grantID: String, now: Date, services: ShimServices,
                     keepingRefreshToken previous: String? = nil) throws(OAuthError) -> SealedUpstreamTokens {
        do {
            return SealedUpstreamTokens(
                accessToken: try services.sealer.seal(tokens.accessToken, context: "at:" + grantID),
                accessTokenExpiresAt: tokens.expiresIn.flatMap { Clamp.tokenLifetime(Double($0)) }.map { now.addingTimeInterval(TimeInterval($0)) },
                refreshToken: try (tokens.refreshToken.map { try services.sealer.seal($0, context: "rt:" + grantID) } ?? previous),
                tokenType: tokens.tokenType, scope: tokens.scope)
        } catch {
            throw OAuthError(.serverError, "tokens could not be stored", detail: "seal failed")
        }
    }

    static func openAccessToken(_ sealed: SealedUpstreamTokens, grantID: String, services: ShimServices) throws(OAuthError) -> String {
        do { return try services.sealer.open(sealed.accessToken, context: "at:" + grantID) } catch {
            throw OAuthError(.serverError, "stored tokens cannot be read", detail: "open access token failed (key changed?)")
        }
    }

    static func openRefreshToken(_ sealed: SealedUpstreamTokens, grantID: String, services: ShimServices) throws(OAuthError) -> String? {
        guard let value = sealed.refreshToken else { return nil }
        do { return try services.sealer.open(value, context: "rt:" + grantID) } catch {
            throw OAuthError(.serverError, "stored tokens cannot be read", detail: "open refresh token failed (key changed?)")
        }
    }

    /// RFC 6749 §5.1. In `upstream` mode the access token is the IdP's; the
    /// refresh token, when there is one, is the shim's own.
    static func response(accessToken: String, upstream: SealedUpstreamTokens, refreshToken: String?, scope: ScopeSet, now: Date) -> [String: Any] {
        var body: [String: Any] = ["access_token": accessToken, "token_type": "Bearer", "scope": scope.text]
        if let expiry = upstream.accessTokenExpiresAt, let seconds = Clamp.tokenLifetime(expiry.timeIntervalSince(now)) {
            body["expires_in"] = seconds
        }
        if let refreshToken { body["refresh_token"] = refreshToken }
        return body
    }
}
