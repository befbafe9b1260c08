/// The claims of an Identity Assertion JWT Authorization Grant
/// (draft-ietf-oauth-identity-assertion-authz-grant §3, "ID-JAG Claims";
/// MCP ext-auth Enterprise-Managed Authorization §4.3), as the shim issues
/// them (leg 1) and reads them (leg 2).
public struct IDJAGClaims: Codable, Sendable, Equatable {
    /// REQUIRED: the issuer of the ID-JAG (the IdP, or the shim in leg 1).
    public var issuer: String
    /// REQUIRED: the user, as the IdP names them.
    public var subject: String
    /// REQUIRED: the issuer identifier of the authorization server that is to
    /// accept it; a string or an array of exactly one (§5.1 processing rules).
    public var audience: [String]
    /// REQUIRED: the client at that authorization server.
    public var clientID: String
    /// REQUIRED: unique per ID-JAG (RFC 7519 §4.1.7); single use.
    public var tokenID: String
    public var expiresAt: Int
    public var issuedAt: Int
    public var notBefore: Int?
    /// OPTIONAL in the draft, REQUIRED by MCP ext-auth: the resource(s) (RFC 8707).
    public var resources: [String]
    /// OPTIONAL: space-separated scopes.
    public var scope: String?
    /// Other claims (`email`, `tenant`, `auth_time`, `amr`, ...).
    public var extra: [String: JSONValue]

    public init(
        issuer: String, subject: String, audience: [String], clientID: String, tokenID: String, expiresAt: Int, issuedAt: Int,
        notBefore: Int? = nil, resources: [String], scope: String?, extra: [String: JSONValue] = [:]
    ) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.clientID = clientID
        self.tokenID = tokenID
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.resources = resources
        self.scope = scope
        self.extra = extra
    }

    static let fixedNames: Set<String> = ["iss", "sub", "aud", "client_id", "jti", "exp", "iat", "nbf", "resource", "scope"]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        issuer = try container.decode(String.self, forKey: JSONKey("iss"))
        subject = try container.decode(String.self, forKey: JSONKey("sub"))
        audience = try Self.strings(container, "aud") ?? []
        clientID = try container.decode(String.self, forKey: JSONKey("client_id"))
        tokenID = try container.decode(String.self, forKey: JSONKey("jti"))
        expiresAt = try AccessTokenClaims.seconds(container, "exp")
        issuedAt = try AccessTokenClaims.seconds(container, "iat")
        notBefore = container.contains(JSONKey("nbf")) ? try AccessTokenClaims.seconds(container, "nbf") : nil
        resources = try Self.strings(container, "resource") ?? []
        scope = try container.decodeIfPresent(String.self, forKey: JSONKey("scope"))
        var extra: [String: JSONValue] = [:]
        for key in container.allKeys where !Self.fixedNames.contains(key.stringValue) {
            extra[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        self.extra = extra
    }

    /// A string or an array of strings (RFC 7519 §4.1.3 for `aud`; the draft for `resource`).
    static func strings(_ container: KeyedDecodingContainer<JSONKey>, _ name: String) throws -> [String]? {
        guard container.contains(JSONKey(name)) else { return nil }
        if let single = try? container.decode(String.self, forKey: JSONKey(name)) { return [single] }
        return try container.decode([String].self, forKey: JSONKey(name))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        for (name, value) in extra where !Self.fixedNames.contains(name) {
            try container.encode(value, forKey: JSONKey(name))
        }
        try container.encode(issuer, forKey: JSONKey("iss"))
        try container.encode(subject, forKey: JSONKey("sub"))
        if audience.count == 1 {
            try container.encode(audience[0], forKey: JSONKey("aud"))
        } else {
            try container.encode(audience, forKey: JSONKey("aud"))
        }
        try container.encode(clientID, forKey: JSONKey("client_id"))
        try container.encode(tokenID, forKey: JSONKey("jti"))
        try container.encode(expiresAt, forKey: JSONKey("exp"))
        try container.encode(issuedAt, forKey: JSONKey("iat"))
        try container.encodeIfPresent(notBefore, forKey: JSONKey("nbf"))
        if resources.count == 1 {
            try container.encode(resources[0], forKey: JSONKey("resource"))
        } else if !resources.isEmpty {
            try container.encode(resources, forKey: JSONKey("resource"))
        }
        try container.encodeIfPresent(scope, forKey: JSONKey("scope"))
    }
}

/// The registered values of Enterprise-Managed Authorization.
public enum EMAProtocol {
    /// RFC 7523 §2.1: the JWT bearer authorization grant.
    public static let jwtBearerGrant = GrantType.jwtBearer.rawValue
    /// RFC 8693 §2.1: token exchange.
    public static let tokenExchangeGrant = GrantType.tokenExchange.rawValue
    /// The draft §4.3 / §9: the token type of an ID-JAG.
    public static let idJAGTokenType = "urn:ietf:params:oauth:token-type:id-jag"
    /// RFC 8693 §3: an OpenID Connect ID token as `subject_token`.
    public static let idTokenType = "urn:ietf:params:oauth:token-type:id_token"
    /// The draft §3: the JWT `typ` of an ID-JAG (RFC 8725 §3.11 explicit typing).
    public static let mediaType = "oauth-id-jag+jwt"
    /// The draft §9.2: `authorization_grant_profiles_supported`.
    public static let grantProfile = "urn:ietf:params:oauth:grant-profile:id-jag"
}
