/// The payload of an `issued` access token: a JWT profile for OAuth 2.0
/// access tokens (RFC 9068 §2.2).
///
/// Fixed members are typed; `extra` holds the claims the operator copies from
/// the upstream ID token (`tokens.claims`, e.g. Entra's `oid`, `tid`,
/// `roles`, `email`). `sid` carries the grant (token family) the token was
/// issued from, so revoking the grant makes the token inactive at
/// introspection and at the gateway; it is an identifier, not a secret.
public struct AccessTokenClaims: Codable, Sendable, Equatable {
    /// RFC 9068 §2.2: `iss`, the shim's issuer.
    public var issuer: String
    /// RFC 9068 §2.2: `sub`, the upstream subject (or the grant when the IdP
    /// sent no ID token, see `TokenResponder`).
    public var subject: String
    /// RFC 9068 §2.2 and §3: `aud`, the resource the token was requested for.
    public var audience: [String]
    /// RFC 9068 §2.2: `exp`, `iat` (seconds since 1970); `nbf` is optional.
    public var expiresAt: Int
    public var issuedAt: Int
    public var notBefore: Int?
    /// RFC 9068 §2.2: `jti`, unique per token.
    public var tokenID: String
    /// RFC 9068 §2.2 (RFC 8693 §4.3): `client_id`, the client it was issued to.
    public var clientID: String
    /// RFC 9068 §2.2.3: `scope`, space-separated.
    public var scope: String
    /// The grant id (`sid`), for revocation.
    public var grantID: String?
    /// RFC 9493 §4.1 `sub_id`: the user as (issuer, subject) (rule 13), in
    /// the `iss_sub` format; absent when the IdP named no user.
    public var subjectID: IssuerSubjectIdentifier?
    /// Copied upstream claims, never one of the names above.
    public var extra: [String: JSONValue]

    public init(
        issuer: String, subject: String, audience: [String], expiresAt: Int, issuedAt: Int, notBefore: Int? = nil,
        tokenID: String, clientID: String, scope: String, grantID: String?, subjectID: IssuerSubjectIdentifier? = nil,
        extra: [String: JSONValue] = [:]
    ) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.tokenID = tokenID
        self.clientID = clientID
        self.scope = scope
        self.grantID = grantID
        self.subjectID = subjectID
        self.extra = extra
    }

    /// Claim names the shim sets itself; `tokens.claims` may not copy them.
    public static let reservedNames: Set<String> = [
        "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "sid", "typ", "azp", "auth_time",
        "acr", "amr", "cnf", "act", "may_act", "nonce", "at_hash", "c_hash", "resource", "sub_id",
    ]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: JSONKey.self)
        func required<T: Decodable>(_ name: String, _ type: T.Type) throws -> T {
            try container.decode(T.self, forKey: JSONKey(name))
        }
        issuer = try required("iss", String.self)
        subject = try required("sub", String.self)
        // RFC 7519 §4.1.3: `aud` is a string or an array of strings.
        if let single = try? container.decode(String.self, forKey: JSONKey("aud")) {
            audience = [single]
        } else {
            audience = try required("aud", [String].self)
        }
        expiresAt = try Self.seconds(container, "exp")
        issuedAt = try Self.seconds(container, "iat")
        notBefore = container.contains(JSONKey("nbf")) ? try Self.seconds(container, "nbf") : nil
        tokenID = try required("jti", String.self)
        clientID = try required("client_id", String.self)
        scope = try container.decodeIfPresent(String.self, forKey: JSONKey("scope")) ?? ""
        grantID = try container.decodeIfPresent(String.self, forKey: JSONKey("sid"))
        subjectID = try container.decodeIfPresent(IssuerSubjectIdentifier.self, forKey: JSONKey("sub_id"))
        var extra: [String: JSONValue] = [:]
        for key in container.allKeys where !Self.reservedNames.contains(key.stringValue) {
            extra[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        self.extra = extra
    }

    /// RFC 7519 §2 NumericDate: a JSON number of seconds (fractions allowed, truncated).
    static func seconds(_ container: KeyedDecodingContainer<JSONKey>, _ name: String) throws -> Int {
        let value = try container.decode(JSONValue.self, forKey: JSONKey(name))
        switch value {
        case .int(let number): return number
        case .double(let number) where number.isFinite && abs(number) < 1e15: return Int(number)
        default:
            throw DecodingError.typeMismatch(
                Int.self,
                .init(
                    codingPath: container.codingPath + [JSONKey(name)],
                    debugDescription: "\(name) is not a NumericDate"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        for (name, value) in extra where !Self.reservedNames.contains(name) {
            try container.encode(value, forKey: JSONKey(name))
        }
        try container.encode(issuer, forKey: JSONKey("iss"))
        try container.encode(subject, forKey: JSONKey("sub"))
        // A single audience as a string (RFC 7519 §4.1.3 allows both; most
        // resource-server libraries compare a string most simply).
        if audience.count == 1 {
            try container.encode(audience[0], forKey: JSONKey("aud"))
        } else {
            try container.encode(audience, forKey: JSONKey("aud"))
        }
        try container.encode(expiresAt, forKey: JSONKey("exp"))
        try container.encode(issuedAt, forKey: JSONKey("iat"))
        try container.encodeIfPresent(notBefore, forKey: JSONKey("nbf"))
        try container.encode(tokenID, forKey: JSONKey("jti"))
        try container.encode(clientID, forKey: JSONKey("client_id"))
        try container.encode(scope, forKey: JSONKey("scope"))
        try container.encodeIfPresent(grantID, forKey: JSONKey("sid"))
        try container.encodeIfPresent(subjectID, forKey: JSONKey("sub_id"))
    }
}
