import ShimCore
import Testing

/// Rule 8 (docs/security-rules.md): `resource` must name a configured resource
/// (RFC 8707 §2 `invalid_target`); tokens are for that resource only; toward
/// Entra v2 the resource becomes scopes (AADSTS901002 / AADSTS9010010), so a
/// client's short scope name maps to the fully qualified one.
@Suite("Rule 8: resource indicators and scopes (RFC 8707)")
struct ResourcePolicyTests {
    static let mcp = "https://mcp.example.com/mcp"
    static let one = ResourcePolicy(
        resources: [.init(resource: mcp, scopes: ["api://app/mcp.access", "api://app/mcp.admin"])],
        upstreamScopes: ["openid", "offline_access"])
    static let two = ResourcePolicy(
        resources: [.init(resource: "https://a.example/mcp", scopes: ["a", "a2"]), .init(resource: "https://b.example/mcp", scopes: ["b"])],
        upstreamScopes: ["openid"])

    @Test(
        "RFC 8707 §2: a resource that is not configured, byte for byte, is invalid_target",
        arguments: [
            "https://evil.example/mcp", "https://mcp.example.com/mcp/", "https://mcp.example.com", "https://mcp.example.com/",
            "HTTPS://mcp.example.com/mcp", "https://MCP.example.com/mcp", "https://mcp.example.com/MCP", "https://mcp.example.com:443/mcp",
            "http://mcp.example.com/mcp", "https://mcp.example.com/mcp?x=1", "https://mcp.example.com/mcp#x", "https://mcp.example.com/mcp/..",
            "https://mcp.example.com/mcp%20", " https://mcp.example.com/mcp", "https://mcp.example.com.evil.example/mcp",
            "https://mcp.example.com/mcp2", "https://mcp.example.com/mc", "", "mcp", "api://app",
        ])
    func unknownResource(_ resource: String) {
        let error = #expect(throws: OAuthError.self) { try Self.one.resolve(resource: resource, scope: nil) }
        #expect(error?.code == .invalidTarget)
    }

    @Test("a missing resource defaults to the only one configured, and is invalid_target with several")
    func missingResource() throws {
        #expect(try Self.one.resolve(resource: nil, scope: nil).resource == Self.mcp)
        #expect(try Self.one.resolve(resource: nil, scope: "mcp.access").scope.values == ["api://app/mcp.access"])
        let error = #expect(throws: OAuthError.self) { try Self.two.resolve(resource: nil, scope: nil) }
        #expect(error?.code == .invalidTarget)
        #expect(try Self.two.resolve(resource: "https://b.example/mcp", scope: nil).resource == "https://b.example/mcp")
    }

    // RFC 8707 §2: the server "can use a default resource indicator"; clients written for plain OAuth send none.
    @Test("a missing resource with several configured is the one marked default; a named resource still wins")
    func defaultResource() throws {
        let withDefault = ResourcePolicy(
            resources: [
                .init(resource: "https://a.example/mcp", scopes: ["a"]), .init(resource: "https://b.example/mcp", scopes: ["b"], isDefault: true),
            ],
            upstreamScopes: ["openid"])
        let decision = try withDefault.resolve(resource: nil, scope: nil)
        #expect(decision.resource == "https://b.example/mcp" && decision.scope.values == ["b"])
        #expect(try withDefault.resolve(resource: "https://a.example/mcp", scope: nil).resource == "https://a.example/mcp")
        // The default's scopes only: another resource's scope is not offered for it.
        #expect(throws: OAuthError.self) { try withDefault.resolve(resource: nil, scope: "a") }
        #expect(Self.two.defaultResource == nil && Self.one.defaultResource?.resource == Self.mcp)
    }

    @Test("no scope asked: all of the resource's; upstream gets base scopes plus those")
    func defaultScopes() throws {
        for scope in [nil, "", " ", "   "] as [String?] {
            let decision = try Self.one.resolve(resource: Self.mcp, scope: scope)
            #expect(decision.scope.values == ["api://app/mcp.access", "api://app/mcp.admin"])
            #expect(decision.upstreamScope.values == ["openid", "offline_access", "api://app/mcp.access", "api://app/mcp.admin"])
        }
    }

    @Test(
        "a subset asked is a subset granted; upstream scope = base scopes + granted resource scopes",
        arguments: [
            ("mcp.access", ["api://app/mcp.access"]),
            ("mcp.admin", ["api://app/mcp.admin"]),
            ("api://app/mcp.access", ["api://app/mcp.access"]),
            ("mcp.access api://app/mcp.access mcp.access", ["api://app/mcp.access"]),
            ("mcp.admin mcp.access", ["api://app/mcp.admin", "api://app/mcp.access"]),
            ("  mcp.access   openid ", ["api://app/mcp.access"]),
            ("offline_access mcp.admin", ["api://app/mcp.admin"]),
        ])
    func subset(_ scope: String, _ granted: [String]) throws {
        let decision = try Self.one.resolve(resource: Self.mcp, scope: scope)
        #expect(decision.resource == Self.mcp)
        #expect(decision.scope.values == granted)
        #expect(decision.upstreamScope.values == ["openid", "offline_access"] + granted)
    }

    @Test("Entra: a bare scope maps to the resource's fully qualified api://<app>/<name>; nothing else is invented")
    func entraMapping() throws {
        let entra = ResourcePolicy(
            resources: [.init(resource: Self.mcp, scopes: ["api://11111111-1111-1111-1111-111111111111/mcp.access"])],
            upstreamScopes: ["openid", "profile", "offline_access"])
        let decision = try entra.resolve(resource: Self.mcp, scope: "mcp.access")
        #expect(decision.scope.text == "api://11111111-1111-1111-1111-111111111111/mcp.access")
        #expect(decision.upstreamScope.text == "openid profile offline_access api://11111111-1111-1111-1111-111111111111/mcp.access")
        #expect(!decision.upstreamScope.values.contains("mcp.access"))
        for partial in ["access", "cp.access", "mcp", "mcp.access/", "/mcp.access", "mcp.acces", "MCP.ACCESS"] {
            let error = #expect(throws: OAuthError.self, "\(partial)") { try entra.resolve(resource: Self.mcp, scope: partial) }
            #expect(error?.code == .invalidScope)
        }
    }

    @Test(
        "a scope of another resource, unknown, or not an RFC 6749 §3.3 scope-token is invalid_scope",
        arguments: [
            "b", "a b", "mcp.write", "api://other/a", "A", "a\"b", "a\\b", "a\u{7f}", "é", "a\u{0}", "a\tb", "a,b",
        ])
    func foreignScope(_ scope: String) {
        let error = #expect(throws: OAuthError.self) { try Self.two.resolve(resource: "https://a.example/mcp", scope: scope) }
        #expect(error?.code == .invalidScope)
    }

    @Test("scopes_supported lists every resource scope and base scope once, offline_access always (SEP-2207)")
    func supportedScopes() {
        #expect(Self.two.supportedScopes == ["a", "a2", "b", "openid", "offline_access"])
        #expect(Self.one.supportedScopes == ["api://app/mcp.access", "api://app/mcp.admin", "openid", "offline_access"])
    }

    @Test(
        "tokens are for the authorized resource only",
        arguments: [
            (nil, true), ("https://a.example/mcp", true), ("https://b.example/mcp", false), ("https://a.example/mcp/", false),
            ("HTTPS://a.example/mcp", false), ("", false),
        ] as [(String?, Bool)])
    func sameResource(_ requested: String?, _ allowed: Bool) {
        let ok = (try? ResourcePolicy.checkSameResource(requested: requested, bound: "https://a.example/mcp")) != nil
        #expect(ok == allowed)
        if !allowed {
            let error = #expect(throws: OAuthError.self) {
                try ResourcePolicy.checkSameResource(requested: requested, bound: "https://a.example/mcp")
            }
            #expect(error?.code == .invalidTarget)
        }
    }

    @Test("ScopeSet: RFC 6749 §3.3 space-delimited, order kept, duplicates dropped")
    func scopeSet() {
        #expect(ScopeSet("b a  b a c").values == ["b", "a", "c"])
        #expect(ScopeSet(nil).isEmpty && ScopeSet("   ").isEmpty)
        #expect(ScopeSet("a b").isSubset(of: ScopeSet("b c a")) && !ScopeSet("a d").isSubset(of: ScopeSet("a b")))
        #expect(ScopeSet("a b").union(ScopeSet("b c")).text == "a b c")
        #expect(ScopeSet.isValidToken("api://x/y.z!#[]~") && !ScopeSet.isValidToken("") && !ScopeSet.isValidToken("a b"))
    }
}
