import Foundation
import ShimCore
import ShimUpstream

/// The IdP's tokens at rest: AES-GCM sealed (`Sealer`), each value bound to
/// what it belongs to, so that a sealed value copied into another grant's
/// row (or used for another purpose) does not open (rule 8).
struct UpstreamTokenVault: Sendable {
    let sealer: Sealer

    /// What a sealed value is bound to: its authenticated data.
    enum Binding: Sendable {
        case accessToken(grantID: String)
        case refreshToken(grantID: String)
        /// The successor of a rotated shim refresh token, kept for the grace
        /// window (rule 7), bound to the hash of the token it replaced.
        case successor(ofRefreshTokenHash: String)
        /// A token obtained as the user for an API behind an MCP server
        /// (`DownstreamTokenBroker`), bound to its grant and the API's name.
        case downstream(grantID: String, api: String)

        /// The stored form; changing it makes every sealed value unreadable.
        var context: String {
            switch self {
            case .accessToken(let grantID): "at:" + grantID
            case .refreshToken(let grantID): "rt:" + grantID
            case .successor(let hash): "successor:" + hash
            case .downstream(let grantID, let api): "ds:" + grantID + ":" + api
            }
        }
    }

    func seal(_ value: String, for binding: Binding) throws(OAuthError) -> String {
        do { return try sealer.seal(value, context: binding.context) } catch {
            throw OAuthError(.serverError, "tokens could not be stored", detail: "seal failed")
        }
    }

    func open(_ sealed: String, for binding: Binding) throws(OAuthError) -> String {
        do { return try sealer.open(sealed, context: binding.context) } catch {
            throw OAuthError(.serverError, "stored tokens cannot be read", detail: "open failed (key changed?)")
        }
    }

    /// The IdP's answer, sealed for the grant's row, with the plain access
    /// token kept for the request that obtained it. IdPs that rotate (Entra,
    /// django-oauth-toolkit) return a new refresh token; others (Google,
    /// glewlwyd, LemonLDAP::NG) keep theirs: `keeping` is the sealed one the
    /// grant already has.
    func seal(
        _ tokens: UpstreamTokenResponse, grantID: String, now: Date,
        keeping previousRefreshToken: String? = nil
    ) throws(OAuthError) -> UpstreamTokens {
        let refreshToken: String?
        if let fresh = tokens.refreshToken {
            refreshToken = try seal(fresh, for: .refreshToken(grantID: grantID))
        } else {
            refreshToken = previousRefreshToken
        }
        let sealed = SealedUpstreamTokens(
            accessToken: try seal(tokens.accessToken, for: .accessToken(grantID: grantID)),
            accessTokenExpiresAt: tokens.expiresIn.flatMap { Clamp.tokenLifetime(Double($0)) }.map { now.addingTimeInterval(TimeInterval($0)) },
            refreshToken: refreshToken, tokenType: tokens.tokenType, scope: tokens.scope)
        return UpstreamTokens(sealed: sealed, accessToken: tokens.accessToken)
    }

    func accessToken(_ tokens: UpstreamTokens, grantID: String) throws(OAuthError) -> String {
        if let plain = tokens.accessToken { return plain }
        return try open(tokens.sealed.accessToken, for: .accessToken(grantID: grantID))
    }

    func refreshToken(_ sealed: SealedUpstreamTokens, grantID: String) throws(OAuthError) -> String? {
        guard let value = sealed.refreshToken else { return nil }
        return try open(value, for: .refreshToken(grantID: grantID))
    }
}

/// A grant's upstream tokens as one request holds them: as stored, and the
/// plain access token when this request got it from the IdP (so it is not
/// sealed and opened again within the request).
struct UpstreamTokens: Sendable {
    var sealed: SealedUpstreamTokens
    var accessToken: String?

    /// Tokens read from the store.
    init(stored: SealedUpstreamTokens) {
        self.init(sealed: stored, accessToken: nil)
    }

    init(sealed: SealedUpstreamTokens, accessToken: String?) {
        self.sealed = sealed
        self.accessToken = accessToken
    }
}
