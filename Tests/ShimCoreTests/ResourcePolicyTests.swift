import ShimCore
import Testing

@Suite("Rule 8: resource indicators and scopes (RFC 8707)")
struct ResourcePolicyTests {
    static let one = ResourcePolicy(
        resources: [.init(resource: "https://mcp.example.com/mcp", scopes: ["api://app/mcp.access", "api://app/mcp.admin"])],
        upstreamScopes: ["openid", "offline_access"])
    static let two = ResourcePolicy(
        resources: [.init(resource: "https://a.example/mcp", scopes: ["a"]), .init(resource: "https://b.example/mcp", scopes: ["b"])],
        upstreamScopes: ["openid"])

    @Test("an unknown resource is invalid_target", arguments: [
        "https://evil.example/mcp", "https://mcp.example.com/mcp/", "https://mcp.example.com", "HTTPS://mcp.example.com/mcp",
    ])
    func unknownResource(_ resource: String) {
        let error = #expect(throws: OAuthError.self) { try Self.one.resolve(resource: resource, scope: nil) }
        #expect(error?.code == .invalidTarget)
    }

    @Test("a missing resource defaults to the only one, and is invalid_target with several")
    func missingResource() throws {
        #expect(try Self.one.resolve(resource: nil, scope: nil).resource == "https://mcp.example.com/mcp")
        let error = #expect(throws: OAuthError.self) { try Self.two.resolve(resource: nil, scope: nil) }
        #expect(error?.code == .invalidTarget)
    }

    @Test("no scope asked: all of the resource's; upstream gets base scopes plus those")
    func defaultScopes() throws {
        let decision = try Self.one.resolve(resource: "https://mcp.example.com/mcp", scope: nil)
        #expect(decision.scope.values == ["api://app/mcp.access", "api://app/mcp.admin"])
        #expect(decision.upstreamScope.values == ["openid", "offline_access", "api://app/mcp.access", "api://app/mcp.admin"])
    }

    @Test("a bare scope name maps to Entra's fully qualified one; base scopes are accepted, not granted twice")
    func entraMapping() throws {
        let decision = try Self.one.resolve(resource: "https://mcp.example.com/mcp", scope: "mcp.access openid")
        #expect(decision.scope.values == ["api://app/mcp.access"])
        #expect(decision.upstreamScope.values == ["openid", "offline_access", "api://app/mcp.access"])
    }

    @Test("a scope of another resource, or unknown, is invalid_scope", arguments: ["b", "mcp.write", "api://other/mcp.access", "a\"b"])
    func foreignScope(_ scope: String) {
        let error = #expect(throws: OAuthError.self) { try Self.two.resolve(resource: "https://a.example/mcp", scope: scope) }
        #expect(error?.code == .invalidScope)
    }

    @Test("tokens are for the authorized resource only")
    func sameResource() throws {
        try ResourcePolicy.checkSameResource(requested: nil, bound: "https://a.example/mcp")
        try ResourcePolicy.checkSameResource(requested: "https://a.example/mcp", bound: "https://a.example/mcp")
        let error = #expect(throws: OAuthError.self) {
            try ResourcePolicy.checkSameResource(requested: "https://b.example/mcp", bound: "https://a.example/mcp")
        }
        #expect(error?.code == .invalidTarget)
    }
}
