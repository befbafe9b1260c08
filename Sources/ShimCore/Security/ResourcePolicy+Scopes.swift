/// The one scope rule: every scope value a client names — at
/// /register, /authorize and a refresh at /token — is read the same way, and
/// everything `scopes_supported` lists is accepted by all three.
///
/// A value is either one of a resource's scopes, named exactly as configured
/// or by its short name (the last path segment of a fully qualified scope:
/// `mcp.access` for Entra's `api://<app>/mcp.access`, which is what MCP
/// servers advertise and the Python `mcp` SDK registers), or a base scope:
/// the configured `upstream.scopes`, and `offline_access` whatever the
/// preset (SEP-2207: clients add it when `scopes_supported` lists it and
/// expect a refresh token). Base scopes are requested upstream as configured
/// and never granted to the client as a resource's scope; a client's
/// `offline_access` is answered by the shim's own refresh token and is
/// forwarded only when `upstream.scopes` has it (Google refuses it). Anything
/// else is not offered (`invalid_scope`).
extension ResourcePolicy {
    /// What one scope value a client names means.
    public enum ScopeMeaning: Sendable, Equatable {
        /// One of a resource's scopes, fully qualified as configured.
        case resource(String)
        /// A base scope (upstream's, or `offline_access`).
        case base(String)
    }

    /// `offline_access` (OIDC Core §11) is always a base scope (SEP-2207).
    public static let offlineAccess = "offline_access"

    /// The base scopes: `upstream.scopes` plus `offline_access`.
    public var baseScopes: [String] {
        ScopeSet(values: upstreamScopes + [Self.offlineAccess]).values
    }

    /// `scopes_supported` (RFC 8414 §2): every resource scope and every base
    /// scope, `offline_access` included, once each.
    public var supportedScopes: [String] {
        ScopeSet(values: resources.flatMap(\.scopes) + baseScopes).values
    }

    /// The scopes a resource's 401 challenge and its RFC 9728
    /// `scopes_supported` name (RFC 6750 §3 `scope`, MCP's
    /// `WWW-Authenticate`): the resource's own, as configured, and nothing
    /// else; a base scope appears only when the operator made it one of the
    /// resource's scopes too (a resource whose scope is `openid` or `User.Read`
    /// must still name it, or clients ask for no scope at all). Never
    /// `offline_access` — SEP-2207: resources never put it in their challenges.
    public func challengeScopes(for resource: String) -> [String] {
        resources.first { $0.resource == resource }?.scopes.filter { $0 != Self.offlineAccess } ?? []
    }

    /// The meaning of `value` for `resource` (nil: for any configured resource);
    /// nil when it names nothing this server offers. A resource's own scope
    /// wins over a base scope of the same name.
    public func meaning(of value: String, in resource: Resource?) -> ScopeMeaning? {
        for candidate in resource.map({ [$0] }) ?? resources {
            if let scope = Self.match(value, in: candidate.scopes) { return .resource(scope) }
        }
        return baseScopes.contains(value) ? .base(value) : nil
    }

    /// A scope of `scopes` named exactly, or by the last path segment of a
    /// fully qualified one (`mcp.access` → `api://<app>/mcp.access`); nothing
    /// else is inferred (no prefix, no case folding).
    static func match(_ value: String, in scopes: [String]) -> String? {
        if scopes.contains(value) { return value }
        guard !value.contains("/") else { return nil }  // a short name is one segment
        return scopes.first { $0.contains("://") && $0.hasSuffix("/" + value) }
    }

    /// RFC 7591 §2 `scope` at /register: the values that mean something for
    /// some configured resource, or are base scopes, in the client's order
    /// and spelling; the rest is dropped. RFC 7591 §2: "the authorization
    /// server MAY ... replace the requested scope" — a generic OAuth client
    /// (oidc-agent asks `openid offline_access` of any server) registers
    /// with what is offered instead of being refused, and learns the
    /// narrowed scope from the §3.2.1 response. Nothing is gained by asking
    /// for more: a dropped value was never grantable, and /authorize still
    /// refuses it as `invalid_scope`.
    public func registrationScope(_ scope: ScopeSet) -> ScopeSet {
        ScopeSet(values: scope.values.filter { meaning(of: $0, in: nil) != nil })
    }

    /// The resource scopes a request names for `target`, fully qualified;
    /// base scopes are dropped; anything else is `invalid_scope`.
    func resourceScopes(_ requested: ScopeSet, in target: Resource) throws(OAuthError) -> [String] {
        var asked: [String] = []
        for value in requested.values {
            switch meaning(of: value, in: target) {
            case .resource(let scope)?: if !asked.contains(scope) { asked.append(scope) }
            case .base?: continue
            case nil: throw OAuthError(.invalidScope, "scope \"\(value)\" is not offered for this resource")
            }
        }
        return asked
    }

    /// The resource scopes `registered` allows for `target` (the registered
    /// scope bounds what a client may ask, threat T29). A registration that names no resource scope at all (none,
    /// or only base scopes) allows all of the resource's scopes; one that
    /// names some allows those of them that belong to `target`.
    func registeredScopes(_ registered: String?, for target: Resource) -> [String] {
        let values = ScopeSet(registered).values
        guard values.contains(where: { if case .resource = meaning(of: $0, in: nil) { true } else { false } }) else {
            return target.scopes
        }
        var allowed: [String] = []
        for value in values {
            if case .resource(let scope)? = meaning(of: value, in: target), !allowed.contains(scope) { allowed.append(scope) }
        }
        return target.scopes.filter(allowed.contains)
    }

    /// RFC 6749 §6: the `scope` of a refresh "MUST NOT include any scope not
    /// originally granted"; read by the same rule (short names, base scopes
    /// such as `offline_access` accepted and ignored). Answers the resource
    /// scopes named (empty: the whole grant).
    public func refreshScope(_ requested: ScopeSet, granted: ScopeSet, resource: String) throws(OAuthError) -> ScopeSet {
        let target = resources.first { $0.resource == resource } ?? Resource(resource: resource, scopes: granted.values)
        var asked: [String] = []
        for value in requested.values {
            switch meaning(of: value, in: target) {
            case .resource(let scope)?:
                guard granted.values.contains(scope) else { throw OAuthError(.invalidScope, "scope exceeds what was granted") }
                asked.append(scope)
            case .base?: continue
            case nil: throw OAuthError(.invalidScope, "scope \"\(value)\" exceeds what was granted")
            }
        }
        return ScopeSet(values: asked)
    }
}
