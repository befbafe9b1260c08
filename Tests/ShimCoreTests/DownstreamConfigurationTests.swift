import ShimCore
import Testing

/// `resources[i].downstream`: tokens for the APIs behind an MCP server,
/// obtained as the user (docs/tokens-and-gateway.md, "Tokens for the APIs
/// behind the MCP server").
@Suite("Configuration: downstream APIs of a gateway resource")
struct DownstreamConfigurationTests {
    static let tenant = "11111111-2222-3333-4444-555555555555"

    /// A gateway resource with `downstream`, behind `preset`.
    static func load(
        preset: String, upstream: [String: ConfigValue] = [:], downstream: [ConfigValue], resource extra: [String: ConfigValue] = [:]
    ) -> Result<ShimConfiguration, ConfigurationProblems> {
        var up: [String: ConfigValue] = ["preset": .string(preset), "client_id": .string("static"), "client_secret": .string("s")]
        switch preset {
        case "entra": up["tenant"] = .string(tenant)
        case "okta": up["issuer"] = .string("https://example.okta.com/oauth2/default")
        case "keycloak": up["issuer"] = .string("https://sso.example.com/realms/acme")
        case "github", "google": break
        default: up["issuer"] = .string("https://idp.example")
        }
        up.merge(upstream) { $1 }
        var resource: [String: ConfigValue] = [
            "resource": .string("https://auth.example.com/mcp"), "scopes": .list([.string("api://shim/mcp.read")]),
            "upstream": .string("http://127.0.0.1:9000/mcp"), "downstream": .list(downstream),
        ]
        resource.merge(extra) { $1 }
        let tree = ConfigValue.map([
            "issuer": .string("https://auth.example.com"), "upstream": .map(up), "resources": .list([.map(resource)]),
            "redirects": .map(["clients": .list([.string("claude")])]), "tokens": .map(["access": .string("issued")]),
        ])
        return ShimConfiguration.load(file: tree) { _ in throw ConfigurationProblems(problems: ["no file"]) }
    }

    static func api(_ fields: [String: ConfigValue] = [:]) -> ConfigValue {
        var api: [String: ConfigValue] = [
            "name": .string("graph"), "header": .string("X-Graph-Token"), "scopes": .list([.string("https://graph.microsoft.com/User.Read")]),
        ]
        api.merge(fields) { $1 }
        return .map(api)
    }

    static func problems(_ result: Result<ShimConfiguration, ConfigurationProblems>) -> [String] {
        if case .failure(let problems) = result { return problems.problems }
        return []
    }

    @Test("Entra: on-behalf-of by default, the API's name, header and scopes read")
    func entra() throws {
        let config = try Self.load(preset: "entra", downstream: [Self.api()]).get()
        let api = try #require(config.gatewayResources.first?.downstream.first)
        #expect(api == DownstreamAPI(name: "graph", header: "X-Graph-Token", scopes: ["https://graph.microsoft.com/User.Read"]))
        #expect(api.method(for: config.upstream.preset) == .onBehalfOf)
    }

    @Test(
        "Okta and Keycloak: token exchange by default; oidc when the operator says so, with an audience",
        arguments: [("okta", [:]), ("keycloak", [:]), ("oidc", ["method": ConfigValue.string("token_exchange")])])
    func tokenExchange(_ preset: String, _ fields: [String: ConfigValue]) throws {
        var fields = fields
        fields["audience"] = .string("api://reports")
        let config = try Self.load(preset: preset, downstream: [Self.api(fields)]).get()
        let api = try #require(config.gatewayResources.first?.downstream.first)
        #expect(api.method(for: config.upstream.preset) == .tokenExchange && api.audience == "api://reports")
    }

    @Test(
        "presets without on-behalf-of or token exchange are refused with the reason",
        arguments: [("google", "Google offers neither"), ("github", "GitHub offers neither"), ("oidc", "method: token_exchange")])
    func refusedPresets(_ preset: String, _ reason: String) {
        let problems = Self.problems(Self.load(preset: preset, downstream: [Self.api()]))
        #expect(problems.contains { $0.hasPrefix("resources[0].downstream[0]:") && $0.contains(reason) }, "\(problems)")
    }

    @Test(
        "refused, naming the key",
        arguments: [
            // Headers the gateway cannot own (rule 14): the MCP server would get the client's value, or lose its own.
            (["header": ConfigValue.string("Authorization")], "resources[0].downstream[0].header:"),
            (["header": .string("X-Forwarded-User")], "resources[0].downstream[0].header:"),
            (["header": .string("X-Forwarded-Graph")], "resources[0].downstream[0].header:"),
            (["header": .string("Connection")], "resources[0].downstream[0].header:"),
            (["header": .string("Cookie")], "resources[0].downstream[0].header:"),
            (["header": .string("X-DCR-Shim-Assertion")], "resources[0].downstream[0].header:"),
            (["header": .string("X_Graph_Token")], "resources[0].downstream[0].header:"),
            (["header": .string("")], "resources[0].downstream[0].header:"),
            (["name": .string("")], "resources[0].downstream[0].name:"),
            (["name": .string("graph api")], "resources[0].downstream[0].name:"),
            (["scopes": .list([])], "resources[0].downstream[0].scopes:"),
            (["method": .string("token_exchange")], "resources[0].downstream[0].method:"),
            (["method": .string("impersonate")], "resources[0].downstream[0].method:"),
            (["audience": .string("api://x")], "resources[0].downstream[0].audience:"),
            (["client_secret": .string("x")], "resources[0].downstream[0].client_secret"),
        ])
    func refused(_ fields: [String: ConfigValue], _ key: String) {
        let problems = Self.problems(Self.load(preset: "entra", downstream: [Self.api(fields)]))
        #expect(problems.contains { $0.hasPrefix(key) }, "\(problems)")
    }

    @Test("one header carries one token: not two APIs', nor the upstream token's")
    func headersOnce() {
        let twice = Self.problems(Self.load(preset: "entra", downstream: [Self.api(), Self.api(["name": .string("sharepoint")])]))
        #expect(twice.contains { $0.hasPrefix("resources[0].downstream[1].header:") }, "\(twice)")
        let sameName = Self.problems(Self.load(preset: "entra", downstream: [Self.api(), Self.api(["header": .string("X-Other")])]))
        #expect(sameName.contains { $0.hasPrefix("resources[0].downstream[1].name:") }, "\(sameName)")
        let upstream = Self.problems(
            Self.load(preset: "entra", downstream: [Self.api()], resource: ["upstream_token_header": .string("x-graph-token")]))
        #expect(upstream.contains { $0.hasPrefix("resources[0].downstream[0].header:") }, "\(upstream)")
    }

    @Test("downstream needs gateway mode")
    func needsGateway() {
        let problems = Self.problems(Self.load(preset: "entra", downstream: [Self.api()], resource: ["upstream": .null]))
        #expect(problems.contains { $0.hasPrefix("resources[0]:") && $0.contains("downstream") }, "\(problems)")
    }

    @Test("which downstream method each preset offers")
    func presetTable() {
        #expect(UpstreamPreset.entra.downstreamMethod == .onBehalfOf)
        #expect(UpstreamPreset.okta.downstreamMethod == .tokenExchange && UpstreamPreset.keycloak.downstreamMethod == .tokenExchange)
        for preset in [UpstreamPreset.google, .github, .auth0, .oidc] { #expect(preset.downstreamMethod == nil) }
        #expect(UpstreamPreset.oidc.downstreamMethods == [.tokenExchange] && UpstreamPreset.github.downstreamMethods.isEmpty)
    }
}
