import ShimCore
import Testing

/// ONE scope rule serves /register, /authorize, /token (refresh)
/// and `scopes_supported`, across presets: short names and fully qualified
/// names of a resource's scopes, base scopes, `offline_access` (SEP-2207),
/// unknown scopes. Each row is asked of all four, which must agree.
@Suite("One scope rule, table across presets")
struct ScopeRuleTableTests {
    static let resource = "https://mcp.example.com/mcp"

    /// What a value must mean: a resource scope (fully qualified), a base scope, or nothing.
    enum Expect: Sendable, Equatable {
        case resource(String)
        case base, refused
    }

    struct Row: Sendable {
        var preset: String
        var scopes: [String]
        var upstream: [String]
        var cases: [(String, Expect)]
    }

    static let rows: [Row] = [
        Row(
            preset: "entra",
            scopes: ["api://11111111-2222-3333-4444-555555555555/mcp.access", "api://11111111-2222-3333-4444-555555555555/mcp.admin"],
            upstream: ["openid", "profile", "offline_access"],
            cases: [
                ("mcp.access", .resource("api://11111111-2222-3333-4444-555555555555/mcp.access")),
                ("api://11111111-2222-3333-4444-555555555555/mcp.admin", .resource("api://11111111-2222-3333-4444-555555555555/mcp.admin")),
                ("openid", .base), ("profile", .base), ("offline_access", .base), ("email", .refused), ("mcp", .refused),
                ("access", .refused), ("MCP.ACCESS", .refused), ("api://other/mcp.access", .refused), (".default", .refused),
            ]),
        Row(
            preset: "okta", scopes: ["mcp.tools"], upstream: ["openid", "profile", "offline_access"],
            cases: [("mcp.tools", .resource("mcp.tools")), ("openid", .base), ("offline_access", .base), ("tools", .refused), ("groups", .refused)]),
        Row(
            preset: "google", scopes: ["https://www.googleapis.com/auth/drive.readonly"], upstream: ["openid", "profile"],
            cases: [
                ("https://www.googleapis.com/auth/drive.readonly", .resource("https://www.googleapis.com/auth/drive.readonly")),
                ("drive.readonly", .resource("https://www.googleapis.com/auth/drive.readonly")),
                ("openid", .base), ("offline_access", .base), ("email", .refused), ("auth/drive.readonly", .refused),
            ]),
        Row(
            preset: "github", scopes: ["read:user"], upstream: [],
            cases: [("read:user", .resource("read:user")), ("offline_access", .base), ("openid", .refused), ("user", .refused), ("repo", .refused)]),
        Row(
            preset: "auth0", scopes: ["read:tools", "write:tools"], upstream: ["openid", "profile", "offline_access"],
            cases: [
                ("read:tools", .resource("read:tools")), ("write:tools", .resource("write:tools")), ("offline_access", .base),
                ("tools", .refused), ("https://mcp.example.com/api", .refused),
            ]),
        Row(
            preset: "keycloak", scopes: ["mcp"], upstream: ["openid", "profile", "offline_access"],
            cases: [("mcp", .resource("mcp")), ("openid", .base), ("roles", .refused)]),
        Row(
            preset: "oidc", scopes: ["mcp"], upstream: ["openid"],
            cases: [("mcp", .resource("mcp")), ("openid", .base), ("offline_access", .base), ("profile", .refused), ("mcp2", .refused)]),
    ]

    static var all: [(Int, Int)] { rows.indices.flatMap { r in rows[r].cases.indices.map { (r, $0) } } }

    @Test("register, authorize, refresh and scopes_supported agree on each value", arguments: all)
    func agree(_ row: Int, _ index: Int) throws {
        let spec = Self.rows[row]
        let (value, expect) = spec.cases[index]
        let policy = ResourcePolicy(resources: [.init(resource: Self.resource, scopes: spec.scopes)], upstreamScopes: spec.upstream)
        let context = "\(spec.preset): \(value)"

        // /register keeps what is offered and drops the rest (RFC 7591 §2).
        let registered = policy.registrationScope(ScopeSet(value)).values == [value]
        let decision = try? policy.resolve(resource: Self.resource, scope: value)
        let refreshed = try? policy.refreshScope(ScopeSet(value), granted: ScopeSet(values: spec.scopes), resource: Self.resource)
        switch expect {
        case .resource(let scope):
            #expect(policy.meaning(of: value, in: nil) == .resource(scope), "\(context)")
            #expect(registered, "\(context): /register refused it")
            #expect(decision?.scope.values == [scope], "\(context): /authorize granted \(decision?.scope.text ?? "an error")")
            #expect(decision?.upstreamScope.values == ScopeSet(values: spec.upstream + [scope]).values, "\(context)")
            #expect(refreshed?.values == [scope], "\(context): refresh")
            #expect(policy.supportedScopes.contains(scope), "\(context)")
        case .base:
            #expect(policy.meaning(of: value, in: nil) == .base(value), "\(context)")
            #expect(registered, "\(context): /register refused it")
            // A base scope alone grants the resource's scopes; it is never granted as a resource scope.
            #expect(decision?.scope.values == spec.scopes, "\(context)")
            // Forwarded upstream only when upstream.scopes has it (Google refuses offline_access).
            #expect(decision?.upstreamScope.values.contains(value) == spec.upstream.contains(value), "\(context)")
            #expect(refreshed?.isEmpty == true, "\(context): refresh")
            #expect(policy.supportedScopes.contains(value), "\(context)")
        case .refused:
            #expect(policy.meaning(of: value, in: nil) == nil, "\(context)")
            #expect(policy.registrationScope(ScopeSet(value)).isEmpty, "\(context): /register kept it")
            #expect(decision == nil, "\(context): /authorize accepted it")
            #expect(refreshed == nil, "\(context): refresh accepted it")
            #expect(!policy.supportedScopes.contains(value), "\(context)")
        }
    }

    @Test("everything scopes_supported lists is accepted by /register, /authorize and a refresh, for every preset")
    func supportedIsAccepted() throws {
        for spec in Self.rows {
            let policy = ResourcePolicy(resources: [.init(resource: Self.resource, scopes: spec.scopes)], upstreamScopes: spec.upstream)
            #expect(policy.supportedScopes.contains("offline_access"), "\(spec.preset): SEP-2207")
            for value in policy.supportedScopes {
                #expect(policy.registrationScope(ScopeSet(value)).values == [value], "\(spec.preset): /register dropped \(value)")
                _ = try policy.resolve(resource: Self.resource, scope: value)
                _ = try policy.refreshScope(ScopeSet(value), granted: ScopeSet(values: spec.scopes), resource: Self.resource)
            }
            let all = ScopeSet(values: policy.supportedScopes)
            #expect(try policy.resolve(resource: Self.resource, scope: all.text, registered: all.text).scope.values == spec.scopes)
        }
    }

    // SEP-2207: "resources never put offline_access in their challenges".
    @Test("SEP-2207: a resource's challenge scopes never include offline_access, nor another resource's scopes")
    func sep2207ChallengeScopes() {
        let policy = ResourcePolicy(
            resources: [
                .init(resource: Self.resource, scopes: ["mcp", "offline_access"]),
                .init(resource: "https://b.example/mcp", scopes: ["b"]),
            ],
            upstreamScopes: ["openid", "offline_access"])
        #expect(policy.challengeScopes(for: Self.resource) == ["mcp"])
        #expect(policy.challengeScopes(for: "https://b.example/mcp") == ["b"])
        #expect(policy.challengeScopes(for: "https://unknown.example/mcp").isEmpty)
    }

    @Test(
        "a resource's own scope is named in its challenge even when it is also a base scope",
        arguments: [
            (["mcp.read"], ["openid", "mcp.read"], ["mcp.read"]),
            (["openid", "mcp"], ["openid"], ["openid", "mcp"]),
            (["User.Read", "offline_access"], ["User.Read", "offline_access"], ["User.Read"]),
        ] as [([String], [String], [String])])
    func challengeScopesNameTheResourcesOwn(_ scopes: [String], _ upstream: [String], _ named: [String]) {
        let policy = ResourcePolicy(resources: [.init(resource: Self.resource, scopes: scopes)], upstreamScopes: upstream)
        #expect(policy.challengeScopes(for: Self.resource) == named)
        #expect(
            ProtectedResourceMetadata(resource: Self.resource, issuer: "https://auth", scopes: policy.challengeScopes(for: Self.resource))
                .scopesSupported == named)
    }

    /// (registered, asked, granted or nil for invalid_scope)
    static let bounds: [(String?, String?, [String]?)] = [
        (nil, nil, ["api://a/x", "api://a/y"]), (nil, "x", ["api://a/x"]),
        ("x", nil, ["api://a/x"]), ("api://a/x", "openid", ["api://a/x"]), ("x offline_access", "offline_access", ["api://a/x"]),
        ("x", "x", ["api://a/x"]), ("x", "y", nil), ("x", "x y", nil), ("x y", "y", ["api://a/y"]),
        ("openid offline_access", nil, ["api://a/x", "api://a/y"]), ("offline_access", "y", ["api://a/y"]),
        ("b", nil, nil), ("b", "x", nil), ("x b", "b", nil),
    ]

    // The registered scope bounds what a client may ask (threat T29).
    @Test("the registered scope bounds /authorize; naming none gets the registered ones, or the resource's", arguments: bounds.indices)
    func registeredBound(_ index: Int) {
        let (registered, asked, granted) = Self.bounds[index]
        let policy = ResourcePolicy(
            resources: [
                .init(resource: Self.resource, scopes: ["api://a/x", "api://a/y"]),
                .init(resource: "https://b.example/mcp", scopes: ["b"]),
            ],
            upstreamScopes: ["openid"])
        let decision = try? policy.resolve(resource: Self.resource, scope: asked, registered: registered)
        #expect(decision?.scope.values == granted, "registered \(registered ?? "-") asked \(asked ?? "-")")
        if granted == nil {
            let error = #expect(throws: OAuthError.self) { try policy.resolve(resource: Self.resource, scope: asked, registered: registered) }
            #expect(error?.code == .invalidScope)
        }
    }
}
