import ShimCore
import Testing

/// What can be known from the configuration alone, per provider,
/// is said by `check-config` before a user meets it.
@Suite("Preset configuration rules")
struct PresetConfigurationTests {
    static func load(
        _ preset: String, _ upstream: [String: ConfigValue], scopes: [String] = ["mcp"]
    ) -> Result<ShimConfiguration, ConfigurationProblems> {
        var up: [String: ConfigValue] = ["preset": .string(preset), "client_id": .string("static"), "client_secret": .string("s")]
        up.merge(upstream) { $1 }
        let tree = ConfigValue.map([
            "issuer": .string("https://auth.example.com"),
            "upstream": .map(up),
            "resources": .list([.map(["resource": .string("https://mcp.example.com/mcp"), "scopes": .list(scopes.map { .string($0) })])]),
            "redirects": .map(["clients": .list([.string("claude")])]),
            // These tests are about upstream mode; github and google need `tokens.insecure_upstream_audience_ack` there (threat G8).
            "tokens": .map(["insecure_upstream_audience_ack": .string("true")]),
        ])
        return ShimConfiguration.load(file: tree) { _ in throw ConfigurationProblems(problems: ["no file"]) }
    }

    /// (preset, upstream keys, scopes, the key the problem names, or nil when it loads)
    static let table: [(String, [String: ConfigValue], [String], String?)] = [
        ("auth0", ["issuer": .string("https://tenant.eu.auth0.com/")], ["read:mcp"], "upstream.audience"),
        ("auth0", ["issuer": .string("https://tenant.eu.auth0.com/"), "audience": .string("https://mcp.example.com")], ["read:mcp"], nil),
        (
            "auth0", ["issuer": .string("https://tenant.eu.auth0.com/"), "extra_authorize_params": .map(["audience": .string("https://api")])],
            ["read:mcp"], nil
        ),
        ("okta", ["issuer": .string("https://example.okta.com")], ["mcp"], "upstream.issuer"),
        ("okta", ["issuer": .string("https://example.okta.com/oauth2/default")], ["mcp"], nil),
        ("keycloak", ["issuer": .string("https://sso.example.com")], ["mcp"], "upstream.issuer"),
        ("keycloak", ["issuer": .string("https://sso.example.com/realms/acme")], ["mcp"], nil),
        ("github", ["scopes": .list([.string("openid"), .string("read:user")])], ["read:user"], "upstream.scopes"),
        ("github", [:], ["read:user"], nil),
        (
            "google", ["scopes": .list([.string("openid"), .string("offline_access")])], ["https://www.googleapis.com/auth/userinfo.email"],
            "upstream.scopes"
        ),
        ("google", [:], ["https://www.googleapis.com/auth/userinfo.email"], nil),
        (
            "entra", ["tenant": .string("t1"), "extra_authorize_params": .map(["resource": .string("api://x")])], ["api://x/mcp.access"],
            "upstream.extra_authorize_params.resource"
        ),
        (
            "entra", ["tenant": .string("t1"), "extra_token_params": .map(["resource": .string("api://x")])], ["api://x/mcp.access"],
            "upstream.extra_token_params.resource"
        ),
        ("entra", ["tenant": .string("t1")], ["api://x/mcp.access"], nil),
        ("entra", ["tenant": .string("t1")], ["mcp.access"], "resources[0].scopes"),
        ("oidc", [:], ["mcp"], "upstream.issuer"),
        ("oidc", ["authorization_endpoint": .string("http://127.0.0.1:9/a"), "token_endpoint": .string("http://127.0.0.1:9/t")], ["mcp"], nil),
        (
            "oidc", ["issuer": .string("https://idp.example"), "userinfo_endpoint": .string("http://idp.example/userinfo")], ["mcp"],
            "upstream.userinfo_endpoint"
        ),
    ]

    @Test("check-config names the key to fix, per provider", arguments: 0..<table.count)
    func rules(_ index: Int) {
        let (preset, upstream, scopes, key) = Self.table[index]
        let result = Self.load(preset, upstream, scopes: scopes)
        switch (result, key) {
        case (.success, nil): break
        case (.failure(let problems), let key?):
            #expect(problems.problems.contains { $0.hasPrefix(key + ":") }, "\(problems.problems)")
        case (.success, let key?): Issue.record("\(preset) loaded, expected a problem with \(key)")
        case (.failure(let problems), nil): Issue.record("\(preset) refused: \(problems.problems)")
        }
    }

    @Test("GitHub and Auth0 default to client_secret_post; GitHub's and Google's endpoints need no issuer")
    func defaults() throws {
        let github = try Self.load("github", [:], scopes: ["read:user"]).get()
        #expect(github.upstream.tokenEndpointAuthMethod == "client_secret_post" && github.upstream.scopes.isEmpty)
        let auth0 = try Self.load("auth0", ["issuer": .string("https://t.auth0.com/"), "audience": .string("https://api")], scopes: ["x"]).get()
        #expect(auth0.upstream.tokenEndpointAuthMethod == "client_secret_post" && auth0.upstream.audience == "https://api")
        let google = try Self.load("google", [:], scopes: ["openid"]).get()
        #expect(google.upstream.tokenEndpointAuthMethod == "client_secret_basic")
    }

    @Test("notes say what a preset cannot do: GitHub's refresh, Google's offline access, Entra's multi-tenant endpoints")
    func notes() throws {
        let github = try Self.load("github", [:], scopes: ["read:user"]).get().upstream.presetNotes()
        #expect(github.contains { $0.contains("Expire user authorization tokens") })
        let google = try Self.load("google", [:], scopes: ["openid"]).get().upstream.presetNotes()
        #expect(google.contains { $0.contains("access_type=offline") && $0.contains("prompt=consent") })
        let common = try Self.load("entra", ["tenant": .string("common")], scopes: ["api://x/y"]).get().upstream.presetNotes()
        #expect(common.contains { $0.contains("AADSTS50194") })
        #expect(try Self.load("entra", ["tenant": .string("t1")], scopes: ["api://x/y"]).get().upstream.presetNotes().isEmpty)
    }
}
