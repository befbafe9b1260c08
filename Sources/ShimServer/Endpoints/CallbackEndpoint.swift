import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// GET /callback: the IdP's redirect back to the shim, the ONE redirect URI
/// registered upstream.
struct CallbackEndpoint: Sendable {
    let store: any TransactionStore & AuthorizationCodeStore
    let upstream: any UpstreamIdP
    let vault: UpstreamTokenVault
    /// Checks the browser binding cookie.
    let signer: MessageSigner
    let clock: any ShimClock
    let issuer: String
    /// `tokens.claims`: ID-token claims copied into issued tokens.
    let copiedClaims: [String]
    /// The upstream IdP's issuer, recorded with the subject (rule 13).
    let subjectIssuer: String
    /// How the IdP's `email` is judged before it is copied (rule 13).
    let emailTrust: SubjectIdentity.EmailTrust

    func handle(_ request: Request, _ context: ShimRequestContext) async throws -> Response {
        let params: [String: String]
        do { params = try RequestParameters.query(request) } catch { throw ErrorPage(error: error) }
        guard let state = params["state"] else { throw ErrorPage(error: .invalidRequest("state is missing")) }
        // Rule 5: single use, ≤ 10 minutes.
        guard let transaction = try await store.consumeTransaction(id: SecretToken.hash(state), now: clock.now()) else {
            throw ErrorPage(error: .invalidRequest("this sign-in is unknown, expired or already finished", detail: "callback state not found"))
        }
        // Rule 5: bound to the browser that consented. A victim lured to an
        // attacker's upstream URL arrives here without the attacker's cookie.
        guard let browser = BrowserBinding.current(request, signer: signer), browser.key == transaction.browser else {
            throw ErrorPage(
                error: OAuthError(
                    .accessDenied, "this sign-in was started in another browser; start it again from the application",
                    detail: "callback browser binding mismatch", status: 400))
        }
        let authorization = transaction.request
        let log: Logger.Metadata = ["client_id": "\(authorization.clientID)"]
        do {
            let code = try await complete(params, transaction: transaction, context: context)
            context.logger.info("authorization code issued", metadata: log)
            return AuthorizationFlow.redirect(
                to: AuthorizationFlow.append(
                    [("code", code)] + (authorization.state.map { [("state", $0)] } ?? []) + [("iss", issuer)],
                    to: authorization.redirectURI),
                status: .found)
        } catch {
            context.logger.notice(
                "callback failed", metadata: log.merging(["error": "\(error.code.rawValue)", "detail": "\(error.detail ?? "")"]) { $1 })
            return AuthorizationFlow.errorRedirect(error, redirectURI: authorization.redirectURI, state: authorization.state, issuer: issuer)
        }
    }

    /// Exchanges the upstream code, checks the ID token's nonce, keeps the
    /// upstream tokens sealed and mints the shim's own code (rule 6).
    func complete(_ params: [String: String], transaction: UpstreamTransaction, context: ShimRequestContext) async throws(OAuthError) -> String {
        if let upstreamError = params["error"] {
            // The preset's catalogue: a message the user can act on; the IdP's code and the fix in the log.
            let failure = upstream.explainAuthorizationError(upstreamError, description: params["error_description"])
            context.logger.warning(
                "upstream authorization refused",
                metadata: [
                    "error": "\(upstreamError.prefix(64))", "provider_code": "\(failure.providerCode ?? "-")", "fix": "\(failure.operatorHint)",
                ])
            throw failure.error
        }
        guard let upstreamCode = params["code"] else {
            throw OAuthError(.serverError, "the identity provider returned no code", detail: "callback without code")
        }
        let tokens = try await upstream.exchangeCode(upstreamCode, codeVerifier: transaction.codeVerifier)
        var subject: String?
        var copied: [String: JSONValue]?
        if let idToken = tokens.idToken {
            // Signature, iss, aud, exp when the IdP publishes keys; the nonce always (rule 12).
            subject = try await upstream.verifyIDToken(idToken, nonce: transaction.nonce)
            copied = CopiedClaims.extract(idToken: idToken, names: copiedClaims, emailTrust: emailTrust)
        } else {
            // No ID token (GitHub; an OIDC provider asked without openid): userinfo or GitHub's /user.
            subject = try await upstream.subject(accessToken: tokens.accessToken)
        }
        let grantID = SecretToken.generate(bytes: 16)
        let now = clock.now()
        let sealed = try vault.seal(tokens, grantID: grantID, now: now).sealed
        let code = SecretToken.generate()
        let record = AuthorizationCodeRecord(
            grantID: grantID, request: transaction.request, subject: subject, upstream: sealed,
            expiresAt: now.addingTimeInterval(AuthorizationFlow.codeLifetime), claims: copied, subjectIssuer: subjectIssuer)
        do { try await store.saveCode(record, hash: SecretToken.hash(code)) } catch {
            throw OAuthError(.serverError, "the authorization could not be saved", detail: "store: \(error)")
        }
        return code
    }
}
