public import Foundation

/// The rules for tokens the gateway obtains for the APIs behind an MCP
/// server (`resources[i].downstream`), as the signed-in user.
public enum DownstreamTokenRules {
    /// RFC 7523 §2.1, the JWT bearer grant type Entra's on-behalf-of uses.
    public static let jwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// RFC 8693 §2.1 `grant_type`.
    public static let tokenExchangeGrantType = "urn:ietf:params:oauth:grant-type:token-exchange"
    /// RFC 8693 §3: "Indicates that the token is an OAuth 2.0 access token".
    public static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"

    /// The token request's own parameters (client authentication is added
    /// by the upstream client's credentials, whatever their method).
    ///
    /// * On-behalf-of (learn.microsoft.com, "Microsoft identity platform and
    ///   OAuth 2.0 On-Behalf-Of flow"): "grant_type: The type of token
    ///   request. For a request using a JWT, the value must be
    ///   urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion: The access
    ///   token that was sent to the middle-tier API", "scope", and
    ///   "requested_token_use ... the value must be set to on_behalf_of".
    /// * RFC 8693 §2.1: `subject_token` "REQUIRED", `subject_token_type`
    ///   "REQUIRED", `scope` and `audience` "OPTIONAL".
    public static func requestParameters(
        method: DownstreamMethod, assertion: String, scopes: [String], audience: String?
    ) -> [(String, String)] {
        let scope = scopes.joined(separator: " ")
        switch method {
        case .onBehalfOf:
            return [
                ("grant_type", jwtBearerGrantType), ("assertion", assertion), ("scope", scope), ("requested_token_use", "on_behalf_of"),
            ]
        case .tokenExchange:
            var pairs = [
                ("grant_type", tokenExchangeGrantType), ("subject_token", assertion), ("subject_token_type", accessTokenType),
            ]
            if !scope.isEmpty { pairs.append(("scope", scope)) }
            if let audience, !audience.isEmpty { pairs.append(("audience", audience)) }
            return pairs
        }
    }

    /// A cached downstream token is obtained again when it has less than
    /// this long to live (rule 15: it never outlives its authority by more
    /// than the MCP server's use of one request).
    public static let renewalMargin: TimeInterval = 60

    /// Whether a cached token is still given to the MCP server: it was
    /// obtained with the user's current upstream access token (a renewed
    /// upstream token, a new sign-in, means a new downstream token) and has
    /// more than `renewalMargin` left. A token without a stated expiry is
    /// not cached.
    public static func isReusable(expiresAt: Date?, obtainedWith: String, currentAssertion: String, now: Date) -> Bool {
        guard let expiresAt, obtainedWith == currentAssertion else { return false }
        return expiresAt.timeIntervalSince(now) > renewalMargin
    }

    /// Whether a header name may carry a downstream token: the names an
    /// upstream token may use (`ShimConfiguration.canCarryUpstreamToken`)
    /// less `Authorization`, which belongs to the MCP server's own caller
    /// or to `upstream_token_header` (rule 14).
    public static func canCarryDownstreamToken(_ header: String) -> Bool {
        header.lowercased() != "authorization" && ShimConfiguration.canCarryUpstreamToken(header)
    }

    /// What an IdP's refusal of the exchange means for the client (a status
    /// and a message naming the API, never a token) and for the operator
    /// (what to grant). Entra's codes (reference-error-codes): AADSTS65001
    /// DelegationDoesNotExist, AADSTS50076 / AADSTS50079 strong
    /// authentication required (`interaction_required` with `claims`),
    /// AADSTS70011 invalid scope.
    public static func explain(error: String, providerCodes: [Int], api: DownstreamAPI) -> DownstreamRefusal {
        let scopes = api.scopes.joined(separator: " ")
        if providerCodes.contains(65001) || error == "consent_required" {
            return DownstreamRefusal(
                status: 403, providerCode: "AADSTS65001",
                message: "The API \(api.name) has not been consented to for this application; ask an administrator",
                operatorHint:
                    "grant admin consent for \(scopes) to the shim's app registration (API permissions → Grant admin consent), "
                    + "or list the client in the API's knownClientApplications")
        }
        if providerCodes.contains(50076) || providerCodes.contains(50079) || error == "interaction_required" {
            let code = providerCodes.contains(50079) ? "AADSTS50079" : providerCodes.contains(50076) ? "AADSTS50076" : nil
            return DownstreamRefusal(
                status: 401, providerCode: code,
                message: "The API \(api.name) needs a new sign-in (multi-factor authentication or a Conditional Access policy); sign in again",
                operatorHint:
                    "a Conditional Access policy on \(scopes) needs interaction the user did not perform at sign-in; apply the same policy "
                    + "to the shim's app registration so that sign-in satisfies it")
        }
        if providerCodes.contains(70011) || error == "invalid_scope" {
            return DownstreamRefusal(
                status: 403, providerCode: providerCodes.contains(70011) ? "AADSTS70011" : nil,
                message: "The API \(api.name) refused the requested scopes",
                operatorHint:
                    "check downstream \(api.name) scopes (\(scopes)): each must be a delegated permission of the API, added under API permissions")
        }
        return DownstreamRefusal(
            status: 403, providerCode: providerCodes.first.map { "AADSTS\($0)" },
            message: "A token for the API \(api.name) could not be obtained",
            operatorHint:
                "the identity provider refused the exchange (\(error)); check that the app may use "
                + (api.configuredMethod == .tokenExchange ? "token exchange" : "on-behalf-of or token exchange") + " for \(scopes)")
    }
}

/// An IdP's refusal to issue a downstream token, explained.
public struct DownstreamRefusal: Error, Sendable, Equatable {
    /// 401 when the user must sign in again, 403 when an administrator must act.
    public var status: Int
    /// The provider's code (AADSTS…), for the log.
    public var providerCode: String?
    /// For the client: names the API, never a token.
    public var message: String
    /// For the operator's log: what to grant or change.
    public var operatorHint: String

    public init(status: Int, providerCode: String?, message: String, operatorHint: String) {
        self.status = status
        self.providerCode = providerCode
        self.message = message
        self.operatorHint = operatorHint
    }
}
