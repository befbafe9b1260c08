public import ShimCore

/// An error the identity provider answered, as the shim received it: on the
/// browser's return to `/callback` (`error`, `error_description`) or in a
/// token-endpoint response (status and body).
public struct UpstreamErrorReport: Sendable, Equatable {
    public enum Phase: String, Sendable, Equatable {
        /// `GET /callback?error=…`: the IdP refused the authorization request.
        case authorization
        /// The token endpoint refused the shim's code exchange.
        case codeExchange = "code exchange"
        /// The token endpoint refused the shim's refresh.
        case refresh
    }

    public var phase: Phase
    /// HTTP status of a token-endpoint answer (nil at the callback).
    public var status: Int?
    /// The OAuth `error` code ("none" when the IdP gave none), at most 64 characters.
    public var error: String
    /// The IdP's `error_description`, at most 300 characters (log only).
    public var description: String
    /// Entra's numeric `error_codes` (also read from "AADSTS<n>:" in the description).
    public var providerCodes: [Int]

    public init(phase: Phase, status: Int?, error: String, description: String, providerCodes: [Int] = []) {
        self.phase = phase
        self.status = status
        self.error = String(error.prefix(64))
        self.description = String(description.prefix(300))
        self.providerCodes = providerCodes
    }
}

/// What an upstream error means: the OAuth error the client receives (a
/// message a user can act on, never the IdP's own text) and, for the log,
/// the provider's code and what the operator must fix, and where.
public struct UpstreamFailure: Sendable, Equatable {
    /// The provider's own code when there is one (`AADSTS50011`, `redirect_uri_mismatch`).
    public var providerCode: String?
    /// For the client: code and user-safe description; `detail` names the IdP's code (log only).
    public var error: OAuthError
    /// For the operator's log: the fix, with the console step that makes it.
    public var operatorHint: String

    public init(providerCode: String?, error: OAuthError, operatorHint: String) {
        self.providerCode = providerCode
        self.error = error
        self.operatorHint = operatorHint
    }
}

/// The kinds of failure the catalogue tells apart; each gets one client
/// error per phase, so that every preset answers clients the same way.
enum FailureKind: Sendable {
    /// The operator must fix something at the IdP or in the configuration.
    case configuration
    /// An administrator must grant consent, or the user is not assigned to the app.
    case consent
    /// The user declined or cancelled at the IdP.
    case userDenied
    /// The user must sign in again (expired or revoked grant, MFA now required).
    case signInAgain
    /// The IdP is unavailable.
    case unavailable

    /// The client's error for this kind in this phase (RFC 6749 §4.1.2.1 codes
    /// at the callback, §5.2 at the token endpoint).
    func clientError(_ phase: UpstreamErrorReport.Phase, message: String?, detail: String) -> OAuthError {
        switch (self, phase) {
        case (.unavailable, _):
            OAuthError(.temporarilyUnavailable, message ?? "the identity provider is unavailable; try again later", detail: detail)
        case (.signInAgain, .refresh):
            OAuthError(.invalidGrant, message ?? "the identity provider no longer accepts this grant; sign in again", detail: detail)
        case (.signInAgain, _):
            OAuthError(.accessDenied, message ?? "the sign-in could not be completed; start it again", detail: detail)
        case (.userDenied, _):
            OAuthError(.accessDenied, message ?? "the sign-in was not completed at the identity provider", detail: detail)
        case (.consent, .refresh):
            OAuthError(
                .invalidGrant, message ?? "an administrator must approve this application at the identity provider; sign in again afterwards",
                detail: detail)
        case (.consent, _):
            OAuthError(.accessDenied, message ?? "an administrator must approve this application at the identity provider", detail: detail)
        case (.configuration, .authorization):
            OAuthError(
                .serverError, message ?? "the identity provider refused this server's sign-in request; its operator has been told what to fix",
                detail: detail)
        case (.configuration, _):
            OAuthError(
                .serverError, message ?? "the identity provider refused this server's request; its operator has been told what to fix",
                detail: detail, status: 502)
        }
    }
}
