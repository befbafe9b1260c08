/// Rule 8 (RFC 8707 resource indicators) and the scope mapping toward the
/// upstream: which configured resource a request is for, which scopes the
/// client gets, and which scopes the shim asks the IdP for.
public struct ResourcePolicy: Sendable {
    public struct Resource: Sendable, Equatable {
        public var resource: String
        public var scopes: [String]
        /// `resources[i].default`: the resource a request that names none is
        /// for when several are served (at most one; check-config).
        public var isDefault: Bool
        public init(resource: String, scopes: [String], isDefault: Bool = false) {
            self.resource = resource
            self.scopes = scopes
            self.isDefault = isDefault
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

    /// RFC 8707 §2: "the authorization server SHOULD ... [return] invalid_target"
    /// when the resource is unknown. A missing resource (RFC 8707 §2: the
    /// server "can use a default resource indicator"; clients written for
    /// plain OAuth send none) is the only configured one, or with several the
    /// one marked `default: true` (`defaultResource`); without a default it
    /// is an error.
    ///
    /// The scope is read by the one scope rule (`meaning(of:in:)`): each value
    /// names one of the resource's scopes (exactly or by its short name) or a
    /// base scope. The scope the client registered (`registered`, threat T29)
    /// bounds what it may ask, and a request naming no resource
    /// scope gets the registered ones (the resource's own when it registered none).
    public func resolve(resource: String?, scope: String?, registered: String? = nil) throws(OAuthError) -> Decision {
        let target: Resource
        if let resource {
            guard let found = resources.first(where: { $0.resource == resource }) else {
                throw OAuthError(.invalidTarget, "resource is not served by this authorization server")
            }
            target = found
        } else if let fallback = defaultResource {
            target = fallback
        } else {
            throw OAuthError(.invalidTarget, "resource is required: this server protects several resources")
        }

        // Bounded and checked token by token (RFC 6749 §3.3; rule 10: bounded work).
        let requested = try ScopeSet(parsing: scope)
        let asked = try resourceScopes(requested, in: target)
        let allowed = registeredScopes(registered, for: target)
        // RFC 7591 §2: `scope` lists what "the client can use when requesting access tokens".
        if let beyond = asked.first(where: { !allowed.contains($0) }) {
            throw OAuthError(.invalidScope, "scope \"\(beyond)\" is beyond what this client registered")
        }
        let granted = asked.isEmpty ? allowed : asked
        if granted.isEmpty, !target.scopes.isEmpty {
            throw OAuthError(.invalidScope, "this client registered no scope of this resource; it must register again with one")
        }
        let clientScope = ScopeSet(values: granted)
        return Decision(
            resource: target.resource,
            scope: clientScope,
            upstreamScope: ScopeSet(values: upstreamScopes + clientScope.values)
        )
    }

    /// The resource a request that names none is for: the only configured
    /// one, else the one marked `default` (nil: none, `resource` is required).
    public var defaultResource: Resource? {
        resources.count == 1 ? resources[0] : resources.first(where: \.isDefault)
    }

    /// Re-checks a later request (token, refresh) against the resource bound
    /// at authorization: "tokens are for that resource only".
    public static func checkSameResource(requested: String?, bound: String) throws(OAuthError) {
        if let requested, requested != bound {
            throw OAuthError(.invalidTarget, "resource does not match the one authorized")
        }
    }
}
