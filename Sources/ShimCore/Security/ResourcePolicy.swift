/// Rule 8 (RFC 8707 resource indicators) and the scope mapping toward the
/// upstream: which configured resource a request is for, which scopes the
/// client gets, and which scopes the shim asks the IdP for.
public struct ResourcePolicy: Sendable {
    public struct Resource: Sendable, Equatable {
        public var resource: String
        public var scopes: [String]
        public init(resource: String, scopes: [String]) {
            self.resource = resource
            self.scopes = scopes
        }
    }

    /// The outcome for one authorization request.
    public struct Decision: Sendable, Equatable {
        /// The configured resource the tokens are for.
        public var resource: String
        /// The scope the client is granted (shown on the consent page, returned at /token).
        public var scope: ScopeSet
        /// The scope requested from the IdP: upstream base scopes plus the resource's.
        public var upstreamScope: ScopeSet
    }

    public let resources: [Resource]
    public let upstreamScopes: [String]

    public init(resources: [Resource], upstreamScopes: [String]) {
        self.resources = resources
        self.upstreamScopes = upstreamScopes
    }

    /// Every scope a client may ask for: `scopes_supported` in metadata.
    public var supportedScopes: [String] {
        ScopeSet(values: resources.flatMap(\.scopes) + upstreamScopes).values
    }

    /// RFC 8707 §2: "the authorization server SHOULD ... [return] invalid_target"
    /// when the resource is unknown; a missing resource defaults to the only
    /// configured one, and is an error when there are several.
    public func resolve(resource: String?, scope: String?) throws(OAuthError) -> Decision {
        let target: Resource
        if let resource {
            guard let found = resources.first(where: { $0.resource == resource }) else {
                throw OAuthError(.invalidTarget, "resource is not served by this authorization server")
            }
            target = found
        } else if resources.count == 1 {
            target = resources[0]
        } else {
            throw OAuthError(.invalidTarget, "resource is required: this server protects several resources")
        }

        // Bounded and checked token by token (RFC 6749 §3.3; issue 11, finding 2).
        let requested = try ScopeSet(parsing: scope)
        var granted: [String] = []
        for value in requested.values {
            if let mapped = Self.map(value, into: target.scopes) {
                granted.append(mapped)
            } else if upstreamScopes.contains(value) {
                continue   // base scopes (openid, offline_access, ...) are always requested upstream
            } else {
                throw OAuthError(.invalidScope, "scope \"\(value)\" is not offered for this resource")
            }
        }
        let clientScope = granted.isEmpty ? ScopeSet(values: target.scopes) : ScopeSet(values: granted)
        return Decision(
            resource: target.resource,
            scope: clientScope,
            upstreamScope: ScopeSet(values: upstreamScopes + clientScope.values)
        )
    }

    /// A requested scope names a resource scope either exactly or by its last
    /// path segment, so a client that asks for `mcp.access` gets Entra's
    /// fully qualified `api://<app>/mcp.access`.
    static func map(_ value: String, into scopes: [String]) -> String? {
        if scopes.contains(value) { return value }
        return scopes.first { $0.contains("://") && $0.hasSuffix("/" + value) }
    }

    /// Re-checks a later request (token, refresh) against the resource bound
    /// at authorization: "tokens are for that resource only".
    public static func checkSameResource(requested: String?, bound: String) throws(OAuthError) {
        if let requested, requested != bound {
            throw OAuthError(.invalidTarget, "resource does not match the one authorized")
        }
    }
}
