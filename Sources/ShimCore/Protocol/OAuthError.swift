/// An OAuth error as RFC 6749 §5.2 (token endpoint), §4.1.2.1 (authorization
/// endpoint), RFC 7591 §3.2.2 (registration) and RFC 8707 §2 (`invalid_target`)
/// define it.
///
/// `description` is safe to show the client; `detail` is for the log only and
/// must never carry a secret, code or token (log hashes or prefixes instead).
public struct OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The registered error codes this shim emits.
    public enum Code: String, Sendable, Equatable {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case unsupportedResponseType = "unsupported_response_type"
        case unsupportedTokenType = "unsupported_token_type"
        case invalidScope = "invalid_scope"
        case invalidTarget = "invalid_target"
        case accessDenied = "access_denied"
        case serverError = "server_error"
        case temporarilyUnavailable = "temporarily_unavailable"
        case invalidRedirectURI = "invalid_redirect_uri"
        case invalidClientMetadata = "invalid_client_metadata"
    }

    public var code: Code
    /// Client-safe, human-readable text (`error_description`).
    public var description: String
    /// Log-only detail; never sent to the client.
    public var detail: String?
    /// HTTP status when the error is answered directly (not redirected).
    public var status: Int

    public init(_ code: Code, _ description: String, detail: String? = nil, status: Int? = nil) {
        self.code = code
        self.description = description
        self.detail = detail
        self.status = status ?? Self.defaultStatus(for: code)
    }

    /// RFC 6749 §5.2: 400 for every error but `invalid_client`, which is 401
    /// (the shim always answers 401 so clients such as Claude re-register).
    static func defaultStatus(for code: Code) -> Int {
        switch code {
        case .invalidClient: 401
        case .serverError: 500
        case .temporarilyUnavailable: 503
        default: 400
        }
    }

    public static func invalidRequest(_ text: String, detail: String? = nil) -> OAuthError {
        OAuthError(.invalidRequest, text, detail: detail)
    }

    public static func invalidGrant(_ text: String, detail: String? = nil) -> OAuthError {
        OAuthError(.invalidGrant, text, detail: detail)
    }

    public static func invalidClient(_ text: String = "client authentication failed", detail: String? = nil) -> OAuthError {
        OAuthError(.invalidClient, text, detail: detail)
    }

    /// The JSON body of RFC 6749 §5.2.
    public var jsonBody: [String: String] {
        ["error": code.rawValue, "error_description": description]
    }
}
