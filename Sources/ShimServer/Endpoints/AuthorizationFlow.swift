import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// Steps shared by /authorize, /consent and /callback.
enum AuthorizationFlow {
    /// Rule 6: codes live at most 5 minutes; rule 5: transactions at most 10.
    static let codeLifetime: TimeInterval = 300
    static let transactionLifetime: TimeInterval = 600

    /// RFC 6749 §4.1.2.1 error response, with RFC 9207 `iss`. Only ever
    /// called with a redirect_uri that passed rule 2.
    static func errorRedirect(
        _ error: OAuthError, redirectURI: String, state: String?, issuer: String,
        status: HTTPResponse.Status = .found
    ) -> Response {
        var pairs = [("error", error.code.rawValue), ("error_description", error.description)]
        if let state { pairs.append(("state", state)) }
        pairs.append(("iss", issuer))
        return redirect(to: append(pairs, to: redirectURI), status: status)
    }

    static func redirect(to location: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [
                .location: location, .cacheControl: "no-store",
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ])
    }

    static func append(_ pairs: [(String, String)], to uri: String) -> String {
        uri + (uri.contains("?") ? "&" : "?") + FormEncoding.encode(pairs)
    }
}

/// Rule 5: the start of the upstream leg. Saves the upstream transaction
/// (random 256-bit state, ≤ 10 min, bound to the browser) and returns the
/// IdP URL to send the browser to. Only the random state travels; the
/// client's redirect_uri stays in the store.
struct UpstreamSignIn: Sendable {
    let store: any TransactionStore
    let upstream: any UpstreamIdP
    let clock: any ShimClock

    func start(_ request: AuthorizationRequest, browser: BrowserBinding) async throws(OAuthError) -> String {
        let (verifier, challenge) = PKCE.makePair()
        // OIDC Core §3.1.2.1: a nonce ties the ID token to this request; glewlwyd requires it with openid.
        let nonce = request.upstreamScope.values.contains("openid") ? SecretToken.generate() : nil
        let state = SecretToken.generate()
        let now = clock.now()
        let transaction = UpstreamTransaction(request: request, browser: browser.key, codeVerifier: verifier, nonce: nonce, createdAt: now)
        do {
            try await store.saveTransaction(
                transaction, id: SecretToken.hash(state),
                expiresAt: now.addingTimeInterval(AuthorizationFlow.transactionLifetime))
        } catch {
            throw OAuthError(.serverError, "the sign-in could not be saved", detail: "store: \(error)")
        }
        return try await upstream.authorizationURL(state: state, codeChallenge: challenge, nonce: nonce, scope: request.upstreamScope)
    }
}
