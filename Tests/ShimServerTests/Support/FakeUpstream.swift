import Foundation
import ShimCore
import ShimTesting
import ShimUpstream

/// An in-process identity provider behind `UpstreamIdP`. It records every
/// call, issues numbered tokens, checks the shim's own PKCE verifier,
/// returns an (unsigned) ID token carrying the nonce it was sent, and can be
/// told to fail or to be slow.
final class FakeUpstream: UpstreamIdP, Sendable {
    static let authorizeEndpoint = "https://idp.test/authorize"
    static let subject = "upstream-user-42"

    struct AuthorizationCall: Sendable {
        var state: String
        var codeChallenge: String
        var nonce: String?
        var scope: ScopeSet
    }

    struct State: Sendable {
        var counter = 0
        var authorizations: [AuthorizationCall] = []
        /// Codes handed to the browser, waiting for the shim's exchange.
        var codes: [String: AuthorizationCall] = [:]
        var exchangedCodes: [String] = []
        var refreshCalls: [String] = []
        var revoked: [String] = []
        var issuedAccessTokens: [String] = []
        var issuedRefreshTokens: [String] = []
        var issuedIDTokens: [String] = []
        /// `expires_in` of every issued access token.
        var accessTokenLifetime = 3600
        var exchangeFailure: OAuthError?
        var refreshFailure: OAuthError?
        var refreshDelay: Duration = .zero
        /// When true, token responses carry no refresh token (some IdPs, some scopes).
        var omitRefreshToken = false
        /// When set, the ID token carries this nonce instead of the one sent.
        var nonceOverride: String?
        /// More claims in the ID token (e.g. `email`, `tid`, `oid`).
        var idTokenExtra: [String: String] = [:]
        /// Boolean claims in the ID token (e.g. `email_verified`).
        var idTokenFlags: [String: Bool] = [:]
        /// When true, token responses carry no ID token (GitHub has none).
        var omitIDToken = false
        /// Every downstream token request: (API name, method, the user's access token sent as assertion).
        var downstreamCalls: [DownstreamCall] = []
        /// `expires_in` of every downstream token (nil: none stated).
        var downstreamLifetime: Int? = 300
        var downstreamRefusal: DownstreamRefusal?
    }

    struct DownstreamCall: Sendable, Equatable {
        var api: String
        var method: DownstreamMethod
        var assertion: String
    }

    let state = Locked(State())

    static let invalidGrant = OAuthError(
        .invalidGrant, "the identity provider no longer accepts this grant; sign in again",
        detail: "upstream invalid_grant")
    static let unavailable = OAuthError(
        .temporarilyUnavailable, "the identity provider is unavailable; try again later",
        detail: "upstream 503")

    // MARK: UpstreamIdP

    func authorizationURL(state: String, codeChallenge: String, nonce: String?, scope: ScopeSet) async throws(OAuthError) -> String {
        self.state.withLock { $0.authorizations.append(AuthorizationCall(state: state, codeChallenge: codeChallenge, nonce: nonce, scope: scope)) }
        var pairs = [
            ("response_type", "code"), ("client_id", "shim-upstream"), ("redirect_uri", ShimHarness.issuer + "/callback"),
            ("scope", scope.text), ("state", state), ("code_challenge", codeChallenge), ("code_challenge_method", "S256"),
        ]
        if let nonce { pairs.append(("nonce", nonce)) }
        return Self.authorizeEndpoint + "?" + FormEncoding.encode(pairs)
    }

    func exchangeCode(_ code: String, codeVerifier: String) async throws(OAuthError) -> UpstreamTokenResponse {
        let outcome: Result<UpstreamTokenResponse, OAuthError> = state.withLock { s in
            s.exchangedCodes.append(code)
            if let failure = s.exchangeFailure { return .failure(failure) }
            // RFC 7636 §4.6 at the IdP: the shim must present its own verifier.
            guard let call = s.codes.removeValue(forKey: code), PKCE.s256(codeVerifier) == call.codeChallenge else {
                return .failure(Self.invalidGrant)
            }
            return .success(Self.issue(&s, nonce: s.nonceOverride ?? call.nonce, withIDToken: true))
        }
        return try outcome.get()
    }

    func refresh(_ refreshToken: String, scope: ScopeSet) async throws(OAuthError) -> UpstreamTokenResponse {
        let delay = state.withLock { s in
            s.refreshCalls.append(refreshToken)
            return s.refreshDelay
        }
        if delay > .zero { try? await Task.sleep(for: delay) }
        let outcome: Result<UpstreamTokenResponse, OAuthError> = state.withLock { s in
            if let failure = s.refreshFailure { return .failure(failure) }
            guard s.issuedRefreshTokens.contains(refreshToken) else { return .failure(Self.invalidGrant) }
            return .success(Self.issue(&s, nonce: nil, withIDToken: false))
        }
        return try outcome.get()
    }

    func downstreamToken(_ api: DownstreamAPI, method: DownstreamMethod, assertion: String) async throws -> UpstreamTokenResponse {
        let outcome: Result<UpstreamTokenResponse, DownstreamRefusal> = state.withLock { s in
            s.downstreamCalls.append(DownstreamCall(api: api.name, method: method, assertion: assertion))
            if let refusal = s.downstreamRefusal { return .failure(refusal) }
            return .success(
                UpstreamTokenResponse(
                    accessToken: "\(api.name)-token-\(s.downstreamCalls.count)-\(UUID().uuidString)", tokenType: "Bearer",
                    expiresIn: s.downstreamLifetime, refreshToken: nil, scope: api.scopes.joined(separator: " "), idToken: nil))
        }
        return try outcome.get()
    }

    func revoke(refreshToken: String) async {
        state.withLock { $0.revoked.append(refreshToken) }
    }

    func isReady() async -> Bool { true }

    // MARK: The browser at the IdP

    /// The user signs in at the IdP: the browser was sent to `authorizeURL`;
    /// returns the code the IdP puts on its redirect to the shim's callback.
    func approve(_ authorizeURL: String) throws -> (code: String, state: String) {
        let query = try URLQuery.parse(authorizeURL)
        guard let sentState = query["state"], let challenge = query["code_challenge"] else { throw FakeUpstreamError.notAnAuthorizeURL }
        return state.withLock { s in
            s.counter += 1
            let code = "upstream-code-\(s.counter)-\(UUID().uuidString)"
            s.codes[code] = AuthorizationCall(state: sentState, codeChallenge: challenge, nonce: query["nonce"], scope: ScopeSet(query["scope"]))
            return (code, sentState)
        }
    }

    private static func issue(_ s: inout State, nonce: String?, withIDToken: Bool) -> UpstreamTokenResponse {
        s.counter += 1
        let access = "upstream-access-\(s.counter)-\(UUID().uuidString)"
        let refresh = s.omitRefreshToken ? nil : "upstream-refresh-\(s.counter)-\(UUID().uuidString)"
        s.issuedAccessTokens.append(access)
        if let refresh { s.issuedRefreshTokens.append(refresh) }
        var idToken: String?
        if withIDToken, !s.omitIDToken {
            let base: [String: String?] = ["iss": "https://idp.test", "aud": "shim-upstream", "sub": subject, "nonce": nonce]
            var object: [String: Any] = base.merging(s.idTokenExtra.mapValues { Optional($0) }) { old, _ in old }.compactMapValues { $0 }
            for (name, flag) in s.idTokenFlags { object[name] = flag }
            idToken = unsignedJWT(object: object)
            s.issuedIDTokens.append(idToken!)
        }
        return UpstreamTokenResponse(
            accessToken: access, tokenType: "Bearer", expiresIn: s.accessTokenLifetime,
            refreshToken: refresh, scope: "openid mcp.read", idToken: idToken)
    }

    static func unsignedJWT(_ claims: [String: String?]) -> String {
        unsignedJWT(object: claims.compactMapValues { $0 })
    }

    static func unsignedJWT(object claims: [String: Any]) -> String {
        let header = Base64URL.encode(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let payload = try! JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        return header + "." + Base64URL.encode(payload) + "." + Base64URL.encode(Data("sig".utf8))
    }
}

enum FakeUpstreamError: Error { case notAnAuthorizeURL }

/// The query of an absolute or relative URL, as a dictionary.
enum URLQuery {
    static func parse(_ url: String) throws -> [String: String] {
        guard let components = URLComponents(string: url) else { throw FakeUpstreamError.notAnAuthorizeURL }
        var out: [String: String] = [:]
        for item in components.queryItems ?? [] { out[item.name] = item.value ?? "" }
        return out
    }
}
