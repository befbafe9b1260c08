public import Foundation

/// The upstream tokens of one grant, sealed (AES-GCM) with the grant id as
/// associated data. Neither ever leaves the shim in `upstream` mode except
/// the access token, which is what the client receives.
public struct SealedUpstreamTokens: Codable, Sendable, Equatable {
    public var accessToken: String
    public var accessTokenExpiresAt: Date?
    public var refreshToken: String?
    public var tokenType: String
    public var scope: String?

    public init(accessToken: String, accessTokenExpiresAt: Date?, refreshToken: String?, tokenType: String, scope: String?) {
        self.accessToken = accessToken
        self.accessTokenExpiresAt = accessTokenExpiresAt
        self.refreshToken = refreshToken
        self.tokenType = tokenType
        self.scope = scope
    }
}

/// A shim authorization code (rule 6): stored by hash, ≤ 5 minutes, single use.
public struct AuthorizationCodeRecord: Codable, Sendable, Equatable {
    public var grantID: String
    public var request: AuthorizationRequest
    public var subject: String?
    public var upstream: SealedUpstreamTokens
    public var expiresAt: Date
    /// Upstream ID-token claims copied into issued tokens (`tokens.claims`).
    public var claims: [String: JSONValue]?
    /// The issuer of `subject` (rule 13), the upstream IdP's; nil in codes
    /// stored before it was recorded, read as the upstream IdP.
    public var subjectIssuer: String?

    public init(
        grantID: String, request: AuthorizationRequest, subject: String?, upstream: SealedUpstreamTokens, expiresAt: Date,
        claims: [String: JSONValue]? = nil, subjectIssuer: String? = nil
    ) {
        self.grantID = grantID
        self.request = request
        self.subject = subject
        self.upstream = upstream
        self.expiresAt = expiresAt
        self.claims = claims
        self.subjectIssuer = subjectIssuer
    }
}

/// One authorization: the family every refresh token of it belongs to.
public struct Grant: Codable, Sendable, Equatable {
    public var id: String
    public var clientID: String
    public var subject: String?
    public var resource: String
    public var scope: ScopeSet
    /// What the IdP was asked for; asked again on upstream refresh.
    public var upstreamScope: ScopeSet
    /// The IdP's tokens, sealed. nil for a grant that has none: one made from
    /// an ID-JAG (Enterprise-Managed Authorization, leg 2) asserts a user the
    /// IdP never issued tokens to this shim for.
    public var upstream: SealedUpstreamTokens?
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?
    /// Upstream ID-token claims copied into issued tokens (`tokens.claims`),
    /// fixed at sign-in.
    public var claims: [String: JSONValue]?
    /// Who asserted `subject` (rule 13; OIDC Core §5.7: only `iss` and `sub`
    /// together identify a user): the upstream IdP's issuer for a code-flow
    /// grant, the ID-JAG's `iss` for a jwt-bearer grant (the upstream IdP's
    /// for the shim's own ID-JAGs, whose subjects are the IdP's). nil in
    /// grants stored before it was recorded: the upstream IdP.
    public var subjectIssuer: String?

    public init(
        id: String, clientID: String, subject: String?, resource: String, scope: ScopeSet, upstreamScope: ScopeSet,
        upstream: SealedUpstreamTokens?, createdAt: Date, expiresAt: Date, revokedAt: Date? = nil,
        claims: [String: JSONValue]? = nil, subjectIssuer: String? = nil
    ) {
        self.id = id
        self.clientID = clientID
        self.subject = subject
        self.resource = resource
        self.scope = scope
        self.upstreamScope = upstreamScope
        self.upstream = upstream
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.claims = claims
        self.subjectIssuer = subjectIssuer
    }
}

extension Grant {
    private enum CodingKeys: String, CodingKey {
        case id, clientID, subject, resource, scope, upstreamScope, upstream, createdAt, expiresAt, revokedAt, claims, subjectIssuer
    }

    /// Grants stored before `upstream` was optional marked "no upstream
    /// tokens" with an empty access token (type `N_A`): read as nil.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        clientID = try container.decode(String.self, forKey: .clientID)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        resource = try container.decode(String.self, forKey: .resource)
        scope = try container.decode(ScopeSet.self, forKey: .scope)
        upstreamScope = try container.decode(ScopeSet.self, forKey: .upstreamScope)
        upstream = try container.decodeIfPresent(SealedUpstreamTokens.self, forKey: .upstream).flatMap { $0.accessToken.isEmpty ? nil : $0 }
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        expiresAt = try container.decode(Date.self, forKey: .expiresAt)
        revokedAt = try container.decodeIfPresent(Date.self, forKey: .revokedAt)
        claims = try container.decodeIfPresent([String: JSONValue].self, forKey: .claims)
        subjectIssuer = try container.decodeIfPresent(String.self, forKey: .subjectIssuer)
    }
}

/// A shim refresh token (rule 7), stored by hash.
public struct RefreshTokenRecord: Codable, Sendable, Equatable {
    public var grantID: String
    public var clientID: String
    public var issuedAt: Date
    /// Set when the token was exchanged; a later use is reuse.
    public var rotatedAt: Date?
    /// The successor, sealed, kept for the grace window so an honest
    /// concurrent refresh gets the same successor instead of a new family.
    public var sealedSuccessor: String?

    public init(grantID: String, clientID: String, issuedAt: Date, rotatedAt: Date? = nil, sealedSuccessor: String? = nil) {
        self.grantID = grantID
        self.clientID = clientID
        self.issuedAt = issuedAt
        self.rotatedAt = rotatedAt
        self.sealedSuccessor = sealedSuccessor
    }
}
