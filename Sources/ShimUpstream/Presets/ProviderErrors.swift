public import ShimCore

/// What the operator's configuration says, to write hints with.
public struct FailureContext: Sendable {
    public var preset: UpstreamPreset
    public var callbackURL: String
    public var clientID: String
    public var tenant: String?
    public var tokenEndpointAuthMethod: String

    public init(config: UpstreamConfiguration, callbackURL: String) {
        self.init(
            preset: config.preset, callbackURL: callbackURL, clientID: config.clientID, tenant: config.tenant,
            tokenEndpointAuthMethod: config.tokenEndpointAuthMethod)
    }

    public init(preset: UpstreamPreset, callbackURL: String, clientID: String, tenant: String? = nil, tokenEndpointAuthMethod: String) {
        self.preset = preset
        self.callbackURL = callbackURL
        self.clientID = clientID
        self.tenant = tenant
        self.tokenEndpointAuthMethod = tokenEndpointAuthMethod
    }
}

/// RFC 6749 §4.1.2.1 and §5.2 codes, as every provider uses them, with the
/// console step of the preset's provider where the fix is made.
enum GenericErrors {
    static func kind(_ report: UpstreamErrorReport) -> FailureKind {
        if let status = report.status, status >= 500 { return .unavailable }
        switch report.error {
        case "temporarily_unavailable": return .unavailable
        case "server_error" where report.phase == .authorization: return .unavailable
        case "access_denied": return .userDenied
        case "consent_required", "interaction_required", "login_required", "account_selection_required": return .userDenied
        case "invalid_grant", "bad_verification_code", "bad_refresh_token", "invalid_code", "expired_token": return .signInAgain
        default: return .configuration
        }
    }

    /// Where each provider's console registers the callback and makes secrets.
    static func console(_ preset: UpstreamPreset) -> (redirect: String, secret: String) {
        switch preset {
        case .entra:
            (
                "Entra admin center → App registrations → the app → Authentication → Web → Redirect URIs",
                "Entra admin center → App registrations → the app → Certificates & secrets"
            )
        case .okta:
            (
                "Okta admin console → Applications → the app → General → Sign-in redirect URIs",
                "Okta admin console → Applications → the app → General → Client Credentials"
            )
        case .google:
            (
                "Google Cloud console → APIs & Services → Credentials → the OAuth client → Authorized redirect URIs",
                "Google Cloud console → APIs & Services → Credentials → the OAuth client → Client secrets"
            )
        case .github:
            (
                "GitHub → Settings → Developer settings → OAuth Apps → the app → Authorization callback URL",
                "GitHub → Settings → Developer settings → OAuth Apps → the app → Generate a new client secret"
            )
        case .auth0:
            (
                "Auth0 dashboard → Applications → the app → Settings → Allowed Callback URLs",
                "Auth0 dashboard → Applications → the app → Settings → Client Secret"
            )
        case .keycloak:
            (
                "Keycloak admin console → the realm → Clients → the client → Settings → Valid redirect URIs",
                "Keycloak admin console → the realm → Clients → the client → Credentials → Client secret"
            )
        case .oidc:
            ("the IdP's registration of the client: its redirect URIs", "the IdP's registration of the client: its secret")
        }
    }

    /// RFC 6749 §5.2: "invalid_client: Client authentication failed [...]. The
    /// authorization server MAY return an HTTP 401 (Unauthorized) status code".
    /// Some IdPs answer with the status alone: glewlwyd refuses a client
    /// assertion (an unknown key, a bad signature) with 403 and an empty body.
    /// At the token endpoint, a 401 or 403 with no error code is read as the
    /// client refused: a refused code or refresh token comes with its error code.
    static func clientRefusedWithoutErrorCode(status: Int?, error: String) -> Bool {
        error == "none" && (status == 401 || status == 403)
    }

    static func fix(_ report: UpstreamErrorReport, context: FailureContext) -> String {
        let (redirect, secret) = console(context.preset)
        switch report.error {
        case "invalid_client" where context.tokenEndpointAuthMethod == "private_key_jwt":
            return
                "the IdP refused the shim's client assertion: check upstream.client_id (\(context.clientID)) and that the certificate of upstream.client_auth.certificate_file (dcr-shim doctor prints its thumbprint) or the federated credential is registered for this client, and the shim's clock"
        case "invalid_client", "incorrect_client_credentials":
            return
                "the IdP refused the shim's client credentials: check upstream.client_id (\(context.clientID)), upstream.client_secret(_file) and upstream.token_endpoint_auth_method (\(context.tokenEndpointAuthMethod)) against \(secret)"
        case "unauthorized_client":
            // RFC 6749 says "not authorized to use this grant"; some IdPs (glewlwyd) also answer it for a wrong secret.
            return
                "the IdP refused client \(context.clientID): it may not use this grant (allow authorization code and refresh token), or its credentials are wrong (upstream.client_secret(_file), upstream.token_endpoint_auth_method \(context.tokenEndpointAuthMethod); \(secret))"
        case "redirect_uri_mismatch", "invalid_redirect_uri":
            return "the callback is not registered: \(redirect): add exactly \(context.callbackURL)"
        case "invalid_scope":
            return
                "a scope is not offered to client \(context.clientID): check upstream.scopes and resources[].scopes against the scopes the IdP grants this client"
        case "access_denied":
            return "the user declined, or is not allowed to use client \(context.clientID) at the IdP (assignment, consent screen or policy)"
        case "consent_required", "interaction_required", "login_required":
            return "the IdP needs the user to act (\(report.error)); the user signs in again"
        case "invalid_grant", "bad_verification_code", "bad_refresh_token", "invalid_code":
            return report.phase == .refresh
                ? "the IdP no longer accepts the grant's refresh token (expired, revoked or rotated elsewhere): the user signs in again"
                : "the IdP refused the code (expired, used, or the verifier/redirect did not match): the user starts again; if it persists, check the clock and that replicas share storage.url"
        case "unsupported_grant_type":
            return "the IdP does not allow this grant for client \(context.clientID): enable authorization code and refresh token"
        default:
            if let status = report.status, status >= 500 { return "the IdP answered \(status): retry later; check the IdP's status page" }
            return "the IdP answered \(report.error); see its description in this line"
        }
    }

    static func explain(
        _ report: UpstreamErrorReport, context: FailureContext, code: String? = nil,
        kind: FailureKind? = nil, message: String? = nil, hint: String? = nil
    ) -> UpstreamFailure {
        let name = code ?? (report.error == "none" ? nil : report.error)
        let kind = kind ?? Self.kind(report)
        let detail = "upstream \(report.phase.rawValue): \(report.status.map { "\($0) " } ?? "")\(name ?? "no error code")"
        return UpstreamFailure(
            providerCode: name, error: kind.clientError(report.phase, message: message, detail: detail),
            operatorHint: hint ?? fix(report, context: context))
    }
}

/// Provider-specific readings of errors that look generic on the wire.
enum ProviderErrors {
    static func explain(_ report: UpstreamErrorReport, context: FailureContext) -> UpstreamFailure {
        let text = report.description.lowercased()
        switch context.preset {
        case .entra:
            if let failure = EntraErrors.explain(report, context: context) { return failure }
        case .google:
            // https://developers.google.com/identity/protocols/oauth2/web-server#handlingresponse and
            // https://developers.google.com/identity/protocols/oauth2/policies (error pages)
            if report.error == "admin_policy_enforced" || report.error == "org_internal" {
                return GenericErrors.explain(
                    report, context: context, kind: .consent,
                    hint:
                        "Google: the Workspace admin or the consent screen restricts this app (\(report.error)): Google Cloud console → APIs & Services → OAuth consent screen (publishing status, user type, test users), or Google Admin → Security → API controls"
                )
            }
        case .github:
            // https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-authorization-request-errors
            // and …/troubleshooting-oauth-app-access-token-request-errors
            if report.error == "application_suspended" {
                return GenericErrors.explain(
                    report, context: context, kind: .configuration,
                    hint: "GitHub: the OAuth app is suspended: GitHub → Settings → Developer settings → OAuth Apps")
            }
            if report.error == "unverified_user_email" {
                return GenericErrors.explain(
                    report, context: context, kind: .userDenied,
                    message: "your GitHub account's email address is not verified; verify it and sign in again",
                    hint: "GitHub: the user has no verified email address")
            }
        case .auth0:
            // https://auth0.com/docs/authenticate/protocols/oauth#authorization-endpoint-errors
            if report.phase != .authorization, report.status == 401 {
                // Auth0 answers a wrong client secret with 401 `access_denied` "Unauthorized".
                return GenericErrors.explain(
                    report, context: context, kind: .configuration,
                    hint: GenericErrors.fix(
                        UpstreamErrorReport(phase: report.phase, status: 401, error: "invalid_client", description: ""),
                        context: context))
            }
            if text.contains("service not found") {
                return GenericErrors.explain(
                    report, context: context, kind: .configuration,
                    hint:
                        "Auth0: no API has the identifier in upstream.audience: Auth0 dashboard → Applications → APIs → Create API (Identifier = upstream.audience)"
                )
            }
        case .okta:
            // https://developer.okta.com/docs/reference/error-codes/
            if text.contains("not assigned") {
                return GenericErrors.explain(
                    report, context: context, kind: .consent,
                    message: "your account is not assigned to this application; ask an administrator",
                    hint: "Okta: the user is not assigned to the app: Okta admin console → Applications → the app → Assignments")
            }
            if report.error == "invalid_scope" {
                return GenericErrors.explain(
                    report, context: context,
                    hint:
                        "Okta: a scope is not defined on the authorization server or not allowed by its access policy: Security → API → Authorization Servers → the server → Scopes / Access Policies"
                )
            }
        case .keycloak:
            // https://www.keycloak.org/docs/latest/server_admin/#_oidc_clients
            if text.contains("invalid scopes") {
                return GenericErrors.explain(
                    report, context: context, code: "invalid_scope",
                    hint:
                        "Keycloak: a scope is not a client scope of the client: the realm → Clients → the client → Client scopes → Add client scope (Optional)"
                )
            }
        case .oidc:
            break
        }
        if report.phase != .authorization, GenericErrors.clientRefusedWithoutErrorCode(status: report.status, error: report.error) {
            return GenericErrors.explain(
                report, context: context,
                hint: GenericErrors.fix(
                    UpstreamErrorReport(phase: report.phase, status: report.status, error: "invalid_client", description: ""), context: context))
        }
        return GenericErrors.explain(report, context: context)
    }
}
