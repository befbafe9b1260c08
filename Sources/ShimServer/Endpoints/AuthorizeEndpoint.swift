import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ShimCore
import ShimStorage
import ShimUpstream

/// GET /authorize (RFC 6749 §4.1.1, OAuth 2.1, MCP authorization).
struct AuthorizeEndpoint: Sendable {
    let clients: ClientResolver
    let store: any TransactionStore & ConsentStore
    /// Sign-in requests per minute per client address.
    let limiter: AddressRateLimit
    let clock: any ShimClock
    let redirectPolicy: RedirectPolicy
    let resourcePolicy: ResourcePolicy
    /// Signs the browser binding cookie.
    let signer: MessageSigner
    let signIn: UpstreamSignIn
    let issuer: String
    let consentMode: ShimConfiguration.ConsentMode
    /// `authorization.max_pending`.
    let maxPending: Int

    func handle(_ request: Request, _ context: ShimRequestContext) async throws -> Response {
        // Unauthenticated and able to write a pending record: limited per
        // client address (bounded stored rows). Before anything is read, so
        // the answer is a page, never a redirect.
        if let wait = await limiter.attempt(context.clientKey, now: clock.now(), logger: context.logger) {
            context.logger.notice("authorization rate limited", metadata: ["address": "\(context.clientKey)"])
            throw ErrorPage(
                error: OAuthError(
                    .temporarilyUnavailable, "too many sign-in requests from this address; retry after \(wait) seconds",
                    status: 429), retryAfter: wait)
        }
        // Until the redirect_uri is validated, every error is a page (rule 2).
        let params: [String: String]
        do { params = try RequestParameters.query(request) } catch { throw ErrorPage(error: error) }
        guard let clientID = params["client_id"] else {
            throw ErrorPage(error: .invalidRequest("client_id is missing"))
        }
        // A registration, or a Client ID Metadata Document fetched (or cached) now.
        let resolved: ResolvedClient?
        do {
            resolved = try await clients.resolve(id: clientID, clientAddress: context.clientAddress?.limitKey, logger: context.logger)
        } catch let error as OAuthError {
            throw ErrorPage(error: error)
        } catch {
            throw ErrorPage(error: OAuthError(.serverError, "the client registry is unavailable", detail: "\(error)"))
        }
        guard let resolved else {
            throw ErrorPage(error: OAuthError(.invalidClient, "unknown client; the application must register again", status: 400))
        }
        let client = resolved.client
        // OAuth 2.1 §4.1.1 makes redirect_uri optional for a single registration; the
        // shim always requires it, so the value compared at /token is never implied.
        guard let redirectURI = params["redirect_uri"] else {
            throw ErrorPage(error: .invalidRequest("redirect_uri is missing"))
        }
        guard RedirectPolicy.matches(requested: redirectURI, registered: client.redirectURIs) != nil else {
            throw ErrorPage(
                error: .invalidRequest(
                    "redirect_uri is not registered for this client",
                    detail: "client \(clientID) redirect mismatch"))
        }
        // A document lists redirects the operator never saw: the one requested
        // must also pass the allowlist (rule 1).
        if resolved.isCIMD, !redirectPolicy.allowlist.permits(redirectURI) {
            throw ErrorPage(
                error: .invalidRequest(
                    "redirect_uri is not on this server's allowlist",
                    detail: "cimd client \(clientID) redirect not allowlisted"))
        }
        // A registration was checked against the allowlist of its day: the
        // allowlist as configured now must still admit it (rule 1 again).
        if !resolved.isCIMD, !redirectPolicy.stillAllowed(redirectURI) {
            throw ErrorPage(
                error: .invalidRequest(
                    "redirect_uri is no longer allowed by this server",
                    detail: "client \(clientID) redirect not on the current allowlist"))
        }

        // From here the redirect_uri is trusted: errors go back to the client.
        let state = params["state"]
        do throws(OAuthError) {
            let authorization = try validate(params, client: client, redirectURI: redirectURI)
            let browser = BrowserBinding.currentOrNew(request, signer: signer)
            var response: Response
            if try await consentIsRemembered(authorization, client: resolved, browser: browser, request: request) {
                let url = try await signIn.start(authorization, browser: browser)
                context.logger.info("consent remembered; to upstream", metadata: ["client_id": "\(clientID)"])
                response = AuthorizationFlow.redirect(to: url, status: .found)
            } else {
                let requestID = SecretToken.generate()
                let now = clock.now()
                try await save(PendingConsent(request: authorization, browser: browser.key, createdAt: now), id: requestID)
                response = AuthorizationFlow.redirect(
                    to: issuer + "/consent?" + FormEncoding.encode([("request_id", requestID)]), status: .seeOther)
            }
            browser.apply(to: &response, signer: signer)
            return response
        } catch {
            context.logger.notice("authorize refused", metadata: ["client_id": "\(clientID)", "error": "\(error.code.rawValue)"])
            return AuthorizationFlow.errorRedirect(error, redirectURI: redirectURI, state: state, issuer: issuer)
        }
    }

    /// Rules 3 and 8 on a request whose client and redirect_uri are known.
    func validate(_ params: [String: String], client: RegisteredClient, redirectURI: String) throws(OAuthError) -> AuthorizationRequest {
        guard let responseType = params["response_type"] else { throw .invalidRequest("response_type is missing") }
        guard responseType == "code" else {
            throw OAuthError(.unsupportedResponseType, "only response_type=code is supported")
        }
        try PKCE.checkChallenge(params["code_challenge"], method: params["code_challenge_method"])
        if let state = params["state"], state.utf8.count > 1024 { throw .invalidRequest("state is too long") }
        let decision = try resourcePolicy.resolve(resource: params["resource"], scope: params["scope"], registered: client.scope)
        return AuthorizationRequest(
            clientID: client.clientID, redirectURI: redirectURI, state: params["state"],
            codeChallenge: params["code_challenge"]!, resource: decision.resource,
            scope: decision.scope, upstreamScope: decision.upstreamScope)
    }

    /// Rule 4 in `remember` mode: silent only for a consent recorded for this
    /// browser, client, redirect_uri, resource and scopes, and only on a
    /// navigation the browser marks as direct or same-site (Sec-Fetch-Site);
    /// a missing header means ask. A CIMD client's consent is remembered per
    /// document URL (its client_id), and skips the page only when its host is
    /// in `cimd.allowed_hosts` (GHSA-6x8h-498w-gv8c).
    func consentIsRemembered(
        _ authorization: AuthorizationRequest, client: ResolvedClient, browser: BrowserBinding,
        request: Request
    ) async throws(OAuthError) -> Bool {
        guard consentMode == .remember, !browser.isNew else { return false }
        if let document = client.document, !clients.cimdPolicy.mayRememberConsent(host: document.clientID.host) { return false }
        let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!]
        guard let site, ["none", "same-origin", "same-site"].contains(site) else { return false }
        do {
            guard
                let record = try await store.consent(
                    browser: browser.key, clientID: authorization.clientID,
                    redirectURI: authorization.redirectURI)
            else { return false }
            return record.covers(authorization, browser: browser.key, now: clock.now())
        } catch {
            throw OAuthError(.serverError, "consent records are unavailable", detail: "\(error)")
        }
    }

    func save(_ pending: PendingConsent, id: String) async throws(OAuthError) {
        // `authorization.max_pending`: the records waiting for a consent
        // decision are bounded (they expire in 10 minutes and are purged).
        let waiting: Int
        do { waiting = try await store.countPending() } catch {
            throw OAuthError(.serverError, "the sign-in could not be saved", detail: "store: \(error)")
        }
        guard waiting < maxPending else {
            throw OAuthError(
                .temporarilyUnavailable, "too many sign-ins are waiting; try again in a few minutes",
                detail: "authorization.max_pending \(maxPending) reached")
        }
        do {
            try await store.savePending(
                pending, id: SecretToken.hash(id),
                expiresAt: clock.now().addingTimeInterval(AuthorizationFlow.transactionLifetime))
        } catch {
            throw OAuthError(.serverError, "the sign-in could not be saved", detail: "store: \(error)")
        }
    }
}
