/// RFC 7662 §2.2 introspection response for the shim's issued tokens.
public struct IntrospectionResponse: Encodable, Sendable, Equatable {
    public var active: Bool
    public var claims: AccessTokenClaims?

    /// §2.2: "If the introspection call is properly authorized but the token
    /// is not active, does not exist on this server, or the protected
    /// resource is not allowed to introspect this particular token, then the
    /// authorization server MUST return an introspection response with the
    /// "active" field set to "false"" — and nothing else, so an inactive
    /// answer reveals nothing about the token.
    public static let inactive = IntrospectionResponse(active: false, claims: nil)

    public static func active(_ claims: AccessTokenClaims) -> IntrospectionResponse {
        IntrospectionResponse(active: true, claims: claims)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONKey.self)
        try container.encode(active, forKey: JSONKey("active"))
        guard active, let claims else { return }
        // §2.2 members, then the copied upstream claims (§2.2 "MAY ... other").
        try claims.encode(to: encoder)
        try container.encode("Bearer", forKey: JSONKey("token_type"))
    }
}

extension IntrospectionClient {
    /// RFC 7662 §2.1 caller authentication (RFC 6749 §2.3.1): the configured
    /// id, and its secret compared in constant time. Every client's secret is
    /// compared, so timing does not reveal which ids exist.
    public static func authenticate(id: String, secret: String, among clients: [IntrospectionClient]) -> IntrospectionClient? {
        var found: IntrospectionClient?
        for client in clients {
            let idMatches = SecretToken.constantTimeEqual(id, client.id)
            let secretMatches = SecretToken.constantTimeEqual(SecretToken.hash(secret), SecretToken.hash(client.secret))
            if idMatches && secretMatches { found = client }
        }
        return found
    }
}
