import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// GET/POST /consent (rule 4): the user decides, in the browser that asked,
/// whether this client may receive a token for this resource.
struct ConsentEndpoint: Sendable {
    let clients: ClientResolver
    let store: any TransactionStore & ConsentStore
    let clock: any ShimClock
    /// Signs the browser binding cookie and the CSRF token.
    let signer: MessageSigner
    let signIn: UpstreamSignIn
    let auditor: Auditor
    let issuer: String
    /// The IdP's name on the page ("Continue with …").
    let identityProviderName: String
    let consentMode: ShimConfiguration.ConsentMode
    /// `consent.remember_for`.
    let rememberSeconds: Int
    let maxBodyBytes: Int

    static let expired = OAuthError(.invalidRequest, "this sign-in request has expired or was already answered")
    static let otherBrowser = OAuthError(
        .accessDenied, "this sign-in was started in another browser (or cookies are blocked); start it again here", status: 400)

    func show(_ request: Request, _ context: ShimRequestContext) async throws -> Response {
        let params: [String: String]
        do { params = try RequestParameters.query(request) } catch { throw ErrorPage(error: error) }
        guard let requestID = params["request_id"] else { throw ErrorPage(error: .invalidRequest("request_id is missing")) }
        guard let browser = BrowserBinding.current(request, signer: signer) else { throw ErrorPage(error: Self.otherBrowser) }
        guard let pending = try await store.pending(id: SecretToken.hash(requestID), now: clock.now()) else {
            throw ErrorPage(error: Self.expired)
        }
        guard pending.browser == browser.key else { throw ErrorPage(error: Self.otherBrowser) }
        let resolved: ResolvedClient?
        do {
            resolved = try await clients.resolve(
                id: pending.request.clientID, clientAddress: context.clientAddress?.limitKey,
                logger: context.logger)
        } catch let error as OAuthError {
            throw ErrorPage(error: error)
        }
        guard let client = resolved else {
            throw ErrorPage(error: OAuthError(.invalidClient, "the client is no longer registered", status: 400))
        }
        let nonce = SecretToken.generate(bytes: 16)
        let html = ConsentPage.render(
            client: client, request: pending.request, identityProvider: identityProviderName, requestID: requestID,
            csrfToken: browser.csrfToken(requestID: requestID, signer: signer),
            styleNonce: nonce, formAction: issuer + "/consent")
        return HTMLPage.response(status: .ok, html: html, styleNonce: nonce)
    }

    func decide(_ request: Request, _ context: ShimRequestContext) async throws -> Response {
        var request = request
        let form: [String: String]
        do { form = try await RequestParameters.form(&request, maxBytes: maxBodyBytes) } catch { throw ErrorPage(error: error) }
        guard let requestID = form["request_id"], let csrf = form["csrf_token"] else {
            throw ErrorPage(error: .invalidRequest("the consent form is incomplete"))
        }
        guard let decision = form["decision"], decision == "allow" || decision == "deny" else {
            throw ErrorPage(error: .invalidRequest("decision must be allow or deny"))
        }
        guard let browser = BrowserBinding.current(request, signer: signer) else { throw ErrorPage(error: Self.otherBrowser) }
        // Rule 4: the CSRF token binds the POST to a page this browser rendered.
        guard browser.verifyCSRF(csrf, requestID: requestID, signer: signer) else {
            throw ErrorPage(error: OAuthError(.accessDenied, "the consent form is not valid for this browser; start the sign-in again", status: 403))
        }
        guard let pending = try await store.consumePending(id: SecretToken.hash(requestID), now: clock.now()) else {
            throw ErrorPage(error: Self.expired)
        }
        guard pending.browser == browser.key else { throw ErrorPage(error: Self.otherBrowser) }
        let authorization = pending.request
        let clientName = try? await clients.resolve(
            id: authorization.clientID, clientAddress: context.clientAddress?.limitKey,
            logger: context.logger)?.client.clientName
        let event = AuditEvent(
            at: clock.now(), kind: decision == "allow" ? .consentGiven : .consentDenied, clientID: authorization.clientID,
            clientName: clientName ?? nil, redirectHost: Audit.host(authorization.redirectURI),
            resource: authorization.resource, scope: authorization.scope.text)
        await auditor.record(event, logger: context.logger)
        guard decision == "allow" else {
            return AuthorizationFlow.errorRedirect(
                OAuthError(.accessDenied, "the user denied the request"),
                redirectURI: authorization.redirectURI, state: authorization.state,
                issuer: issuer, status: .seeOther)
        }
        do throws(OAuthError) {
            if consentMode == .remember {
                try await saveConsent(authorization, browser: browser)
            }
            let url = try await signIn.start(authorization, browser: browser)
            return AuthorizationFlow.redirect(to: url, status: .seeOther)
        } catch {
            return AuthorizationFlow.errorRedirect(
                error, redirectURI: authorization.redirectURI, state: authorization.state,
                issuer: issuer, status: .seeOther)
        }
    }

    func saveConsent(_ authorization: AuthorizationRequest, browser: BrowserBinding) async throws(OAuthError) {
        let record = ConsentRecord(
            browser: browser.key, clientID: authorization.clientID, redirectURI: authorization.redirectURI,
            scope: authorization.scope, resource: authorization.resource,
            expiresAt: clock.now().addingTimeInterval(TimeInterval(rememberSeconds)))
        do { try await store.saveConsent(record) } catch {
            throw OAuthError(.serverError, "the consent could not be saved", detail: "store: \(error)")
        }
    }
}
