import Foundation
import HTTPTypes
import HummingbirdTesting
import ShimCore
import ShimTesting
import Testing

/// Rule 8 with two configured resources: RFC 8707 resource indicators and
/// "tokens are for that resource only".
@Suite("Resources (rule 8) with two configured resources")
struct ResourceTests {
    static let files = "https://files.example.com/mcp"
    static let twoResources: [String: ConfigValue] = [
        "resources": .list([
            .map(["resource": .string(ShimHarness.resource), "scopes": .list([.string("mcp.read"), .string("mcp.write")])]),
            .map(["resource": .string(files), "scopes": .list([.string("files.read")])]),
        ])
    ]

    static func filesParams(_ app: TestApp) -> AuthorizeParams {
        var params = AuthorizeParams(app: app)
        params.resource = files
        params.scope = "files.read"
        return params
    }

    // RFC 8707 §2: with several resources the server cannot pick one.
    @Test("without resource, a server with two resources answers invalid_target to the client")
    func resourceRequired() async throws {
        let harness = try ShimHarness(overrides: Self.twoResources)
        try await harness.run { client async throws in
            let app = try await client.register()
            var params = AuthorizeParams(app: app)
            params.resource = nil
            var browser = Browser()
            let response = try await client.authorize(params, browser: &browser)
            #expect(response.status == .found)
            #expect(response.redirectParams["error"] == "invalid_target")
            #expect(response.redirectParams["state"] == params.state)
            #expect(response.redirectParams["iss"] == ShimHarness.issuer)
        }
    }

    // RFC 8707 §2: the server "can use a default resource indicator". oidc-agent, a plain OAuth
    // client, sends no resource; `resources[i].default: true` names the one it gets.
    @Test("without resource, a server with two resources uses the one marked default; naming the other still works")
    func defaultResource() async throws {
        let harness = try ShimHarness(overrides: [
            "resources": .list([
                .map(["resource": .string(ShimHarness.resource), "scopes": .list([.string("mcp.read"), .string("mcp.write")])]),
                .map(["resource": .string(Self.files), "scopes": .list([.string("files.read")]), "default": .string("true")]),
            ])
        ])
        try await harness.run { client async throws in
            let app = try await client.register()
            var params = AuthorizeParams(app: app)
            params.resource = nil
            params.scope = nil
            var browser = Browser()
            let callback = try await client.authorizeThroughCallback(params, browser: &browser)
            #expect(harness.upstream.state.current.authorizations.last?.scope.values.contains("files.read") == true)
            // The code is for the default resource; a token request that names no resource gets it.
            let tokens = try await client.exchange(code: callback.code, app: app, resource: nil)
            #expect(tokens.status == .ok, "\(tokens.text)")
            #expect(tokens.json["scope"] as? String == "files.read")
            let named = try await client.toUpstream(AuthorizeParams(app: app), browser: &browser)
            let query = try URLQuery.parse(named)
            #expect(ScopeSet(query["scope"]).values.contains("mcp.read"))
        }
    }

    @Test("each resource is asked upstream with its own mapped scopes; `resource` itself never goes upstream")
    func scopesMappedPerResource() async throws {
        let harness = try ShimHarness(overrides: Self.twoResources)
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser()
            let url = try await client.toUpstream(Self.filesParams(app), browser: &browser)
            let query = try URLQuery.parse(url)
            let scopes = ScopeSet(query["scope"]).values
            #expect(scopes.contains("files.read"))
            #expect(!scopes.contains("mcp.read"))
            #expect(query["resource"] == nil)
        }
    }

    @Test("a scope of another resource is invalid_scope")
    func scopeOfAnotherResource() async throws {
        let harness = try ShimHarness(overrides: Self.twoResources)
        try await harness.run { client async throws in
            let app = try await client.register()
            var params = Self.filesParams(app)
            params.scope = "mcp.write"
            var browser = Browser()
            let response = try await client.authorize(params, browser: &browser)
            #expect(response.redirectParams["error"] == "invalid_scope")
        }
    }

    // RFC 8707 §2.2: the resource at the token endpoint must be one the grant covers.
    @Test("a code for one resource cannot be exchanged, or refreshed, for the other")
    func tokenForOtherResource() async throws {
        let harness = try ShimHarness(overrides: Self.twoResources)
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser()
            let callback = try await client.authorizeThroughCallback(Self.filesParams(app), browser: &browser)
            let wrong = try await client.exchange(code: callback.code, app: app, resource: ShimHarness.resource)
            #expect(wrong.status == .badRequest)
            #expect(wrong.oauthError == "invalid_target")

            let callback2 = try await client.authorizeThroughCallback(Self.filesParams(app), browser: &browser)
            let tokens = try await client.exchange(code: callback2.code, app: app, resource: Self.files)
            #expect(tokens.status == .ok)
            #expect(tokens.json["scope"] as? String == "files.read")
            let refresh = try #require(tokens.json["refresh_token"] as? String)
            let other = try await client.refresh(refresh, app: app, extra: [("resource", ShimHarness.resource)])
            #expect(other.oauthError == "invalid_target")
            let same = try await client.refresh(refresh, app: app, extra: [("resource", Self.files)])
            #expect(same.status == .ok)
        }
    }

    // Rule 4: consent for one resource is not consent for another.
    @Test("a consent remembered for one resource is not used for the other")
    func rememberedConsentPerResource() async throws {
        let harness = try ShimHarness(consent: "remember", overrides: Self.twoResources)
        try await harness.run { client async throws in
            let app = try await client.register()
            var browser = Browser(secFetchSite: "none")
            _ = try await client.authorizeThroughCallback(Self.filesParams(app), browser: &browser)
            let same = try await client.authorize(Self.filesParams(app), browser: &browser)
            #expect(same.status == .found)
            let other = try await client.authorize(AuthorizeParams(app: app), browser: &browser)
            #expect(other.status == .seeOther)
            #expect(other.location?.hasPrefix(ShimHarness.issuer + "/consent?request_id=") == true)
        }
    }
}
