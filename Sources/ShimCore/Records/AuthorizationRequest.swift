public import Foundation

/// A validated /authorize request (rules 2, 3 and 8 already passed), kept
/// while the consent page is shown and while the browser is at the IdP.
public struct AuthorizationRequest: Codable, Sendable, Equatable {
    public var clientID: String
    /// The redirect_uri exactly as the client sent it (RFC 6749 §4.1.3
    /// requires the same value at /token).
    public var redirectURI: String
    public var state: String?
    public var codeChallenge: String
    public var resource: String
    public var scope: ScopeSet
    public var upstreamScope: ScopeSet

    public init(
        clientID: String, redirectURI: String, state: String?, codeChallenge: String,
        resource: String, scope: ScopeSet, upstreamScope: ScopeSet
    ) {
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.state = state
        self.codeChallenge = codeChallenge
        self.resource = resource
        self.scope = scope
        self.upstreamScope = upstreamScope
    }
}

/// Waiting for the user's decision on the consent page (rule 4). Bound to the
/// browser that asked, by the hash of its binding cookie.
public struct PendingConsent: Codable, Sendable, Equatable {
    public var request: AuthorizationRequest
    public var browser: String
    public var createdAt: Date

    public init(request: AuthorizationRequest, browser: String, createdAt: Date) {
        self.request = request
        self.browser = browser
        self.createdAt = createdAt
    }
}

/// The upstream leg (rule 5): keyed by the random `state` sent to the IdP,
/// which is all that travels; the client's redirect_uri stays here.
public struct UpstreamTransaction: Codable, Sendable, Equatable {
    public var request: AuthorizationRequest
    public var browser: String
    public var codeVerifier: String
    public var nonce: String?
    public var createdAt: Date

    public init(request: AuthorizationRequest, browser: String, codeVerifier: String, nonce: String?, createdAt: Date) {
        self.request = request
        self.browser = browser
        self.codeVerifier = codeVerifier
        self.nonce = nonce
        self.createdAt = createdAt
    }
}

/// A consent given in `remember` mode, per (browser, client_id, redirect_uri).
public struct ConsentRecord: Codable, Sendable, Equatable {
    public var browser: String
    public var clientID: String
    public var redirectURI: String
    public var scope: ScopeSet
    public var resource: String
    public var expiresAt: Date

    public init(browser: String, clientID: String, redirectURI: String, scope: ScopeSet, resource: String, expiresAt: Date) {
        self.browser = browser
        self.clientID = clientID
        self.redirectURI = redirectURI
        self.scope = scope
        self.resource = resource
        self.expiresAt = expiresAt
    }

    /// Rule 4: shown again when the redirect_uri, resource or scopes change.
    public func covers(_ request: AuthorizationRequest, browser: String, now: Date) -> Bool {
        self.browser == browser && clientID == request.clientID && redirectURI == request.redirectURI
            && resource == request.resource && request.scope.isSubset(of: scope) && now < expiresAt
    }
}
