import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimTesting
import Testing

/// The one scope rule through the router (threat T29; SEP-2207): /register accepts what /authorize accepts, the registered
/// scope bounds /authorize, a refresh reads scopes the same way, and
/// `offline_access` is always advertised and accepted.
@Suite("One scope rule: /register, /authorize, /token, scopes_supported")
struct ScopeRuleTests {
    static let entraLike: [String: ConfigValue] = [
        "resources": .list([
            .map([
                "resource": .string(ShimHarness.resource),
                "scopes": .list([.string("api://app-1/mcp.access"), .string("api://app-1/mcp.admin")]),
            ])
        ])
    ]

    static func register(_ client: ShimClient, scope: String?) async throws -> (TestResponse, TestApp?) {
        var body =
            #"{"redirect_uris":["\#(ShimHarness.loopbackRedirect)"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"client_name":"scoped""#
        if let scope { body += #","scope":"\#(scope)""# }
        let response = try await client.registerRaw(body + "}")
        guard response.status == .created, let id = response.json["client_id"] as? String else { return (response, nil) }
        return (response, TestApp(clientID: id, secret: nil, redirectURIs: [ShimHarness.loopbackRedirect], authMethod: "none"))
    }

    /// Authorize with `scope` through the callback and the code exchange; the token response.
    static func tokens(_ client: ShimClient, _ app: TestApp, scope: String?) async throws -> TestResponse {
        var browser = Browser()
        var params = AuthorizeParams(app: app)
        params.scope = scope
        let callback = try await client.authorizeThroughCallback(params, browser: &browser)
        return try await client.exchange(code: callback.code, app: app)
    }

    /// The error /authorize sends back on the client's redirect.
    static func authorizeError(_ client: ShimClient, _ app: TestApp, scope: String) async throws -> String? {
        var browser = Browser()
        var params = AuthorizeParams(app: app)
        params.scope = scope
        return try await client.authorize(params, browser: &browser).redirectParams["error"]
    }

    @Test("registration accepts the short names authorization accepts (mcp.access for api://app-1/mcp.access)")
    func registerShortNames() async throws {
        let harness = try ShimHarness(overrides: Self.entraLike)
        try await harness.run { client async throws in
            let (registered, app) = try await Self.register(client, scope: "mcp.access")
            #expect(registered.status == .created, "\(registered.text)")
            let tokens = try await Self.tokens(client, try #require(app), scope: "mcp.access")
            #expect(tokens.json["scope"] as? String == "api://app-1/mcp.access")
            // Fully qualified works too; an unknown name is dropped (RFC 7591 §2), never registered.
            #expect(try await Self.register(client, scope: "api://app-1/mcp.admin openid").0.status == .created)
            let unknown = try await Self.register(client, scope: "mcp.delete mcp.access")
            #expect(unknown.0.status == .created && unknown.0.json["scope"] as? String == "mcp.access", "\(unknown.0.text)")
        }
    }

    // RFC 7591 §2: the server "MAY ... replace the requested scope"; §3.2.1: the response carries what was registered.
    // oidc-agent asks every server for `openid offline_access`; it used to be refused when upstream.scopes had no openid.
    @Test("RFC 7591 §2: /register drops scope values it does not offer and answers the narrowed scope; the flow then works")
    func registrationNarrowsScope() async throws {
        let upstream: ConfigValue = .map([
            "preset": .string("oidc"), "issuer": .string("https://idp.test"),
            "client_id": .string(ShimHarness.upstreamClientID),
            "client_secret": .string(ShimHarness.upstreamSecret), "scopes": .list([.string("profile")]),
        ])
        let noOpenID = try ShimHarness(overrides: ["upstream": upstream])
        try await noOpenID.run { client async throws in
            let (registered, _) = try await Self.register(client, scope: "openid offline_access")
            #expect(registered.status == .created, "\(registered.text)")
            #expect(registered.json["scope"] as? String == "offline_access")
            // Nothing offered left: registered with no scope, as if it had sent none.
            let (bare, _) = try await Self.register(client, scope: "openid email")
            #expect(bare.status == .created && bare.json["scope"] == nil, "\(bare.text)")
        }
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let (registered, app) = try await Self.register(client, scope: "openid offline_access mcp.read mcp.delete")
            #expect(registered.json["scope"] as? String == "openid offline_access mcp.read", "\(registered.text)")
            let app1 = try #require(app)
            // The narrowed scope is the bound (T29): mcp.read is granted, mcp.delete was never registered.
            #expect(try await Self.tokens(client, app1, scope: nil).json["scope"] as? String == "mcp.read")
            #expect(try await Self.authorizeError(client, app1, scope: "mcp.delete") == "invalid_scope")
        }
    }

    // Threat T29; RFC 7591 §2: `scope` lists what "the client can use when requesting access tokens".
    @Test("the scope a client registered bounds what it may ask at /authorize")
    func registeredScopeBoundsAuthorize() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let app = try #require(try await Self.register(client, scope: "mcp.read").1)
            #expect(try await Self.authorizeError(client, app, scope: "mcp.write") == "invalid_scope")
            #expect(try await Self.authorizeError(client, app, scope: "mcp.read mcp.write") == "invalid_scope")
            let tokens = try await Self.tokens(client, app, scope: "mcp.read")
            #expect(tokens.json["scope"] as? String == "mcp.read")
        }
    }

    @Test("a request naming no resource scope gets the registered ones, or the resource's when none were registered")
    func defaultsFollowRegistration() async throws {
        let harness = try ShimHarness()
        try await harness.run { client async throws in
            let narrow = try #require(try await Self.register(client, scope: "mcp.read offline_access").1)
            for asked in [nil, "openid", "offline_access openid"] as [String?] {
                let tokens = try await Self.tokens(client, narrow, scope: asked)
                #expect(tokens.json["scope"] as? String == "mcp.read", "asked \(asked ?? "nothing")")
                #expect(harness.upstream.state.current.authorizations.last?.scope.values.contains("mcp.write") == false)
            }
            let open = try #require(try await Self.register(client, scope: nil).1)
            #expect(try await Self.tokens(client, open, scope: nil).json["scope"] as? String == "mcp.read mcp.write")
            let baseOnly = try #require(try await Self.register(client, scope: "openid offline_access").1)
            #expect(try await Self.tokens(client, baseOnly, scope: "openid").json["scope"] as? String == "mcp.read mcp.write")
        }
    }

    // SEP-2207 (MCP 2026-07-28): clients add offline_access when scopes_supported lists it and
    // expect a refresh token; the AS advertises and accepts it whatever the preset.
    @Test("SEP-2207: offline_access is always in scopes_supported and accepted, never forwarded unless configured upstream")
    func sep2207OfflineAccess() async throws {
        let upstream: ConfigValue = .map([
            "preset": .string("google"), "issuer": .string("https://idp.test"),
            "client_id": .string(ShimHarness.upstreamClientID),
            "client_secret": .string(ShimHarness.upstreamSecret), "scopes": .list([.string("openid")]),
        ])
        // Upstream mode with google needs `tokens.insecure_upstream_audience_ack` (threat G8).
        let tokens: ConfigValue = .map(["access": .string("upstream"), "insecure_upstream_audience_ack": .string("true")])
        let harness = try ShimHarness(overrides: ["upstream": upstream, "tokens": tokens])
        try await harness.run { client async throws in
            let metadata = try await client.get("/.well-known/oauth-authorization-server").json
            #expect((metadata["scopes_supported"] as? [String])?.contains("offline_access") == true)
            let (registered, app) = try await Self.register(client, scope: "mcp.read offline_access")
            #expect(registered.status == .created, "\(registered.text)")
            let tokens = try await Self.tokens(client, try #require(app), scope: "mcp.read offline_access")
            #expect(tokens.status == .ok && tokens.json["scope"] as? String == "mcp.read")
            let refreshToken = try #require(tokens.json["refresh_token"] as? String)
            // Google refuses the offline_access scope: the shim does not pass the client's on.
            #expect(harness.upstream.state.current.authorizations.last?.scope.values == ["openid", "mcp.read"])
            let refreshed = try await client.refresh(refreshToken, app: try #require(app), extra: [("scope", "mcp.read offline_access")])
            #expect(refreshed.status == .ok, "\(refreshed.text)")
        }
    }

    @Test("a refresh reads scope by the same rule: short names and base scopes pass, nothing beyond the grant")
    func refreshScope() async throws {
        let harness = try ShimHarness(overrides: Self.entraLike)
        try await harness.run { client async throws in
            let app = try #require(try await Self.register(client, scope: nil).1)
            let tokens = try await Self.tokens(client, app, scope: "mcp.access")
            var refreshToken = try #require(tokens.json["refresh_token"] as? String)
            for scope in ["mcp.access", "api://app-1/mcp.access offline_access", "openid offline_access"] {
                let response = try await client.refresh(refreshToken, app: app, extra: [("scope", scope)])
                #expect(response.status == .ok, "\(scope): \(response.text)")
                refreshToken = try #require(response.json["refresh_token"] as? String)
            }
            for scope in ["mcp.admin", "api://app-1/mcp.admin", "mcp.delete"] {
                let response = try await client.refresh(refreshToken, app: app, extra: [("scope", scope)])
                #expect(response.oauthError == "invalid_scope", "\(scope): \(response.text)")
            }
        }
    }
}
