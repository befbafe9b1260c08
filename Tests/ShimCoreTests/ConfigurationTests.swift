import ShimCore
import Testing

@Suite("Configuration (DESIGN.md 'Configuration', STYLE.md layering)")
struct ConfigurationTests {
    static func tree(_ overrides: [String: ConfigValue] = [:], upstream: [String: ConfigValue] = [:]) -> ConfigValue {
        var up: [String: ConfigValue] = ["issuer": .string("https://idp.example"), "client_id": .string("static"), "client_secret": .string("file-secret")]
        up.merge(upstream) { $1 }
        var root: [String: ConfigValue] = [
            "issuer": .string("https://auth.example.com"),
            "upstream": .map(up),
            "resources": .list([.map(["resource": .string("https://mcp.example.com/mcp"), "scopes": .list([.string("mcp")])])]),
            "redirects": .map(["clients": .list([.string("claude")])]),
        ]
        root.merge(overrides) { $1 }
        return .map(root)
    }

    static func load(_ tree: ConfigValue, env: [String: String] = [:], flags: [String: String] = [:],
                     files: [String: String] = [:]) -> Result<ShimConfiguration, ConfigurationProblems> {
        ShimConfiguration.load(file: tree, environment: env, flags: flags) { path in
            guard let text = files[path] else { throw ConfigurationProblems(problems: ["no file"]) }
            return text
        }
    }

    @Test("a minimal file loads with the documented defaults")
    func defaults() throws {
        let config = try Self.load(Self.tree()).get()
        #expect(config.listenHost == "0.0.0.0" && config.listenPort == 8080)
        #expect(config.consentMode == .always && config.accessTokenMode == "upstream")
        #expect(config.refreshTTLSeconds == 30 * 86400 && config.refreshGraceSeconds == 45)
        #expect(config.storageURL == "sqlite://./dcr-shim.db")
        #expect(config.upstream.tokenEndpointAuthMethod == "client_secret_basic")
        #expect(config.upstream.scopes == ["openid", "profile"])
        #expect(config.registrationRateLimit == 20 && config.unusedClientTTLSeconds == 86400)
    }

    @Test("defaults < file < environment < flags; _file variants; empty env is unset")
    func layering() throws {
        let tree = Self.tree(["listen": .map(["port": .string("9000")])])
        #expect(try Self.load(tree).get().listenPort == 9000)
        #expect(try Self.load(tree, env: ["DCR_SHIM_LISTEN_PORT": "9100"]).get().listenPort == 9100)
        #expect(try Self.load(tree, env: ["DCR_SHIM_LISTEN_PORT": "9100"], flags: ["listen.port": "9200"]).get().listenPort == 9200)
        #expect(try Self.load(tree, env: ["DCR_SHIM_LISTEN_PORT": ""]).get().listenPort == 9000)
        let env = try Self.load(Self.tree(), env: ["DCR_SHIM_UPSTREAM_CLIENT_SECRET": "env-secret"]).get()
        #expect(env.upstream.clientSecret == "env-secret")
        let fromFile = try Self.load(Self.tree(upstream: ["client_secret": .null, "client_secret_file": .string("/s")]),
                                     files: ["/s": "  file-value\n"]).get()
        #expect(fromFile.upstream.clientSecret == "file-value")
        let lists = try Self.load(Self.tree(), env: ["DCR_SHIM_REDIRECTS_CLIENTS": "claude, vscode"]).get()
        #expect(lists.redirectClients == ["claude", "vscode"])
    }

    @Test("three mistakes are reported together, each naming its key")
    func threeMistakes() {
        let tree = Self.tree(["issuer": .string("http://auth.example.com"), "consnet": .map(["mode": .string("always")])],
                             upstream: ["preset": .string("entra")])
        guard case .failure(let problems) = Self.load(tree) else { Issue.record("loaded a bad config"); return }
        #expect(problems.problems.contains { $0.hasPrefix("issuer:") })
        #expect(problems.problems.contains { $0.hasPrefix("upstream.tenant:") })
        #expect(problems.problems.contains { $0 == "consnet: unknown key" })
    }

    @Test("unknown keys are errors at every depth", arguments: [
        ["bogus": ConfigValue.string("1")],
        ["listen": .map(["hots": .string("x")])],
        ["resources": .list([.map(["resource": .string("https://m/mcp"), "scope": .list([])])])],
    ])
    func unknownKeys(_ overrides: [String: ConfigValue]) {
        guard case .failure(let problems) = Self.load(Self.tree(overrides)) else { Issue.record("accepted"); return }
        #expect(problems.problems.contains { $0.hasSuffix("unknown key") })
    }

    @Test("validation refuses what is unsafe or not built", arguments: [
        (["issuer": ConfigValue.string("http://10.0.0.5:8080")], "issuer:"),
        (["tokens": .map(["access": .string("issued")])], "tokens.access:"),
        (["storage": .map(["url": .string("mysql://db/x")])], "storage.url:"),
        (["redirects": .map(["clients": .list([.string("claud")])])], "redirects.clients:"),
        (["redirects": .map(["allow": .list([.string("http://app.example.com/cb")])])], "redirects.allow[0]:"),
        (["consent": .map(["mode": .string("never")])], "consent.mode:"),
        (["tokens": .map(["refresh_grace": .string("10m")])], "tokens.refresh_grace:"),
        (["keys": .map(["cookie_key": .string("c2hvcnQ=")])], "keys.cookie_key:"),
        (["resources": .list([])], "resources:"),
    ])
    func refused(_ overrides: [String: ConfigValue], _ key: String) {
        guard case .failure(let problems) = Self.load(Self.tree(overrides)) else { Issue.record("accepted"); return }
        #expect(problems.problems.contains { $0.hasPrefix(key) }, "\(problems.problems)")
    }

    @Test("upstream: private_key_jwt is refused clearly; extra params cannot override the shim's own")
    func upstreamRules() {
        guard case .failure(let problems) = Self.load(Self.tree(upstream: [
            "token_endpoint_auth_method": .string("private_key_jwt"),
            "extra_authorize_params": .map(["redirect_uri": .string("https://evil.example")]),
        ])) else { Issue.record("accepted"); return }
        #expect(problems.problems.contains { $0.contains("private_key_jwt is not built yet") })
        #expect(problems.problems.contains { $0.hasPrefix("upstream.extra_authorize_params.redirect_uri") })
    }

    @Test("entra: tenant required, scopes fully qualified, no .default mix, offline_access added")
    func entra() throws {
        let good = Self.tree(["resources": .list([.map(["resource": .string("https://m/mcp"),
                                                        "scopes": .list([.string("api://app/mcp.access")])])])],
                             upstream: ["preset": .string("entra"), "tenant": .string("t"), "issuer": .null, "scopes": .list([.string("openid")])])
        #expect(try Self.load(good).get().upstream.scopes == ["openid", "offline_access"])
        let bad = Self.tree(["resources": .list([.map(["resource": .string("https://m/mcp"),
                                                       "scopes": .list([.string("mcp.access"), .string("api://app/.default")])])])],
                            upstream: ["preset": .string("entra"), "tenant": .string("t")])
        guard case .failure(let problems) = Self.load(bad) else { Issue.record("accepted"); return }
        #expect(problems.problems.contains { $0.contains("must be fully qualified") })
        #expect(problems.problems.contains { $0.contains("does not mix .default") })
    }

    @Test("durations", arguments: [("45s", 45), ("10m", 600), ("12h", 43200), ("30d", 2_592_000), ("90", 90)])
    func durations(_ text: String, _ seconds: Int) {
        #expect(ConfigReader.parseDuration(text) == seconds)
    }
}
