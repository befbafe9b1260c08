import ShimCore
import Testing

/// docs/configuration.md: defaults < file < `DCR_SHIM_`
/// environment < flags; every secret also as `<key>_file`; unknown keys are
/// errors; validation returns every problem at once.
@Suite("Configuration: layering, secret files, unknown keys, every problem at once")
struct ConfigurationTests {
    static func tree(_ overrides: [String: ConfigValue] = [:], upstream: [String: ConfigValue] = [:]) -> ConfigValue {
        var up: [String: ConfigValue] = [
            "issuer": .string("https://idp.example"), "client_id": .string("static"), "client_secret": .string("file-secret"),
        ]
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

    static func load(
        _ tree: ConfigValue, env: [String: String] = [:], flags: [String: String] = [:],
        files: [String: String] = [:]
    ) -> Result<ShimConfiguration, ConfigurationProblems> {
        ShimConfiguration.load(file: tree, environment: env, flags: flags) { path in
            guard let text = files[path] else { throw ConfigurationProblems(problems: ["no file"]) }
            return text
        }
    }

    /// The problems of a configuration that must not load.
    static func problems(_ tree: ConfigValue, env: [String: String] = [:], files: [String: String] = [:]) -> [String] {
        switch load(tree, env: env, files: files) {
        case .success:
            Issue.record("a bad configuration loaded")
            return []
        case .failure(let problems): return problems.problems
        }
    }

    static let entraResources: ConfigValue = .list([
        .map([
            "resource": .string("https://mcp.example.com/mcp"),
            "scopes": .list([.string("api://app/mcp.access")]),
        ])
    ])

    @Test("a minimal file loads with the documented defaults")
    func defaults() throws {
        let config = try Self.load(Self.tree()).get()
        #expect(config.issuer == "https://auth.example.com" && config.dataDir == DataDirectory.forThisProcess() && config.dataDir != ".")
        #expect(config.listenHost == "0.0.0.0" && config.listenPort == 8080)
        #expect(config.consentMode == .always && config.consentRememberSeconds == 30 * 86400 && config.accessTokenMode == .upstream)
        #expect(config.refreshTTLSeconds == 30 * 86400 && config.refreshGraceSeconds == 45)
        #expect(
            config.storageURL == "sqlite://./dcr-shim.db" && config.maxBodyBytes == 65536 && config.logLevel == .info
                && config.storage == .sqlite(path: "./dcr-shim.db"))
        #expect(config.upstream.preset == .oidc && config.upstream.tokenEndpointAuthMethod == "client_secret_basic")
        #expect(config.upstream.scopes == ["openid", "profile"] && config.upstream.timeoutSeconds == 10)
        #expect(config.upstream.extraAuthorizeParams.isEmpty && config.upstream.extraTokenParams.isEmpty)
        #expect(config.registrationRateLimit == 20 && config.maxClients == 100_000 && config.unusedClientTTLSeconds == 86400)
        #expect(config.encryptionKey == nil && config.cookieKey == nil)
        #expect(config.previousEncryptionKeys.isEmpty && config.previousCookieKeys.isEmpty && config.logFormat == .text)
        #expect(config.resources == [.init(resource: "https://mcp.example.com/mcp", scopes: ["mcp"])])
        #expect(config.redirectClients == ["claude"] && config.redirectAllow.isEmpty)
    }

    @Test("defaults < file < environment < flags; an empty variable is unset")
    func layering() throws {
        let tree = Self.tree(["listen": .map(["port": .string("9000")])])
        #expect(try Self.load(tree).get().listenPort == 9000)
        #expect(try Self.load(tree, env: ["DCR_SHIM_LISTEN_PORT": "9100"]).get().listenPort == 9100)
        #expect(try Self.load(tree, env: ["DCR_SHIM_LISTEN_PORT": "9100"], flags: ["listen.port": "9200"]).get().listenPort == 9200)
        #expect(try Self.load(tree, env: ["DCR_SHIM_LISTEN_PORT": ""]).get().listenPort == 9000)
        let lists = try Self.load(Self.tree(), env: ["DCR_SHIM_REDIRECTS_CLIENTS": "claude, vscode"]).get()
        #expect(lists.redirectClients == ["claude", "vscode"])
        #expect(ConfigReader.environmentName("upstream.client_secret") == "DCR_SHIM_UPSTREAM_CLIENT_SECRET")
    }

    @Test("an empty list variable is unset too, like an empty scalar variable")
    func emptyListVariable() throws {
        let config = try Self.load(Self.tree(), env: ["DCR_SHIM_REDIRECTS_CLIENTS": ""]).get()
        #expect(config.redirectClients == ["claude"])
    }

    @Test("the upstream secret: file < DCR_SHIM_UPSTREAM_CLIENT_SECRET < flag; or read through client_secret_file, trimmed")
    func secretLayering() throws {
        #expect(try Self.load(Self.tree()).get().upstream.clientSecret == "file-secret")
        let env = ["DCR_SHIM_UPSTREAM_CLIENT_SECRET": "env-secret"]
        #expect(try Self.load(Self.tree(), env: env).get().upstream.clientSecret == "env-secret")
        #expect(try Self.load(Self.tree(), env: env, flags: ["upstream.client_secret": "flag-secret"]).get().upstream.clientSecret == "flag-secret")
        let fileTree = Self.tree(upstream: ["client_secret": .null, "client_secret_file": .string("/run/secrets/s")])
        #expect(try Self.load(fileTree, files: ["/run/secrets/s": "  file-value\n"]).get().upstream.clientSecret == "file-value")
        let viaEnv = Self.tree(upstream: ["client_secret": .null])
        #expect(try Self.load(viaEnv, env: ["DCR_SHIM_UPSTREAM_CLIENT_SECRET_FILE": "/s"], files: ["/s": "x\n"]).get().upstream.clientSecret == "x")
    }

    @Test("secret files: unreadable, or given alongside the value, is a problem naming the key")
    func secretFileProblems() {
        let missing = Self.problems(Self.tree(upstream: ["client_secret": .null, "client_secret_file": .string("/missing")]))
        #expect(missing.contains("upstream.client_secret_file: cannot read /missing"), "\(missing)")
        let both = Self.problems(Self.tree(upstream: ["client_secret_file": .string("/s")]), files: ["/s": "x"])
        #expect(both.contains("upstream.client_secret: give either upstream.client_secret or upstream.client_secret_file, not both"), "\(both)")
        let none = Self.problems(Self.tree(upstream: ["client_secret": .null]))
        #expect(none.contains("upstream.client_secret: required for client_secret_basic (or upstream.client_secret_file)"), "\(none)")
    }

    @Test("three mistakes are reported together, each with its own text, and nothing else")
    func threeMistakes() {
        let tree = Self.tree(
            ["issuer": .string("http://auth.example.com"), "consnet": .map(["mode": .string("always")])],
            upstream: ["token_endpoint_auth_method": .string("client_secret_jwt")])
        #expect(
            Set(Self.problems(tree)) == [
                "issuer: must be https (http only on loopback, for local development)",
                "consnet: unknown key",
                "upstream.token_endpoint_auth_method: \"client_secret_jwt\" is not client_secret_basic, client_secret_post or private_key_jwt",
            ])
    }

    @Test(
        "unknown keys are errors at every depth, also inside resources[i]",
        arguments: [
            (["bogus": ConfigValue.string("1")], "bogus"),
            (["listen": .map(["host": .string("::"), "hots": .string("x")])], "listen.hots"),
            (
                [
                    "upstream": .map([
                        "issuer": .string("https://idp.example"), "client_id": .string("c"), "client_secret": .string("s"),
                        "client_secert": .string("typo"),
                    ])
                ], "upstream.client_secert"
            ),
            (
                ["resources": .list([.map(["resource": .string("https://m.example/mcp"), "scopes": .list([]), "scope": .list([])])])],
                "resources[0].scope"
            ),
            (
                [
                    "resources": .list([
                        .map(["resource": .string("https://a.example/mcp")]),
                        .map(["resource": .string("https://b.example/mcp"), "audience": .string("x")]),
                    ])
                ], "resources[1].audience"
            ),
            (["tokens": .map(["refresh_ttl": .string("30d"), "access_lifetime": .string("1h")])], "tokens.access_lifetime"),
            (["keys": .map(["signing_keys": .string("x")])], "keys.signing_keys"),
            (["gateway": .map(["idle_timeout": .string("1m"), "read_timeout": .string("1m")])], "gateway.read_timeout"),
            (["redirects": .map(["clients": .list([.string("claude")]), "allowed": .list([])])], "redirects.allowed"),
        ])
    func unknownKeys(_ overrides: [String: ConfigValue], _ key: String) {
        #expect(Self.problems(Self.tree(overrides)).contains("\(key): unknown key"))
    }

    // RFC 8707 §2: a server "can use a default resource indicator" for a request that names none.
    @Test("resources[i].default: read per resource, at most one, a boolean; a misspelling is an unknown key")
    func defaultResource() throws {
        func resources(_ flags: [String?]) -> ConfigValue {
            .list(
                flags.enumerated().map { (i, flag) -> ConfigValue in
                    var entry: [String: ConfigValue] = ["resource": .string("https://m\(i).example/mcp"), "scopes": .list([.string("mcp")])]
                    if let flag { entry["default"] = .string(flag) }
                    return .map(entry)
                })
        }
        let config = try Self.load(Self.tree(["resources": resources([nil, "true"])])).get()
        #expect(config.resources.map(\.isDefault) == [false, true])
        #expect(ResourcePolicy(resources: config.resources, upstreamScopes: []).defaultResource?.resource == "https://m1.example/mcp")
        #expect(try Self.load(Self.tree(["resources": resources([nil, nil])])).get().resources.allSatisfy { !$0.isDefault })
        #expect(
            Self.problems(Self.tree(["resources": resources(["true", nil, "yes"])]))
                .contains("resources[0].default, resources[2].default: at most one resource is the default for requests that name none"))
        #expect(Self.problems(Self.tree(["resources": resources([nil, "sometimes"])])).contains { $0.hasPrefix("resources[1].default:") })
        let misspelt: ConfigValue = .list([.map(["resource": .string("https://m.example/mcp"), "defaults": .string("true")])])
        #expect(Self.problems(Self.tree(["resources": misspelt])).contains("resources[0].defaults: unknown key"))
    }

    /// A YAML author may write `listen.port: 9000`, meaning the nested key; the
    /// reader looks keys up by dotted path, so the literal key is never read
    /// and must be reported, not silently ignored.
    @Test("a literal dotted key is unknown, not silently ignored", arguments: ["listen.port", "upstream.client_id", "resources[0]"])
    func dottedKeys(_ key: String) {
        #expect(Self.problems(Self.tree([key: .string("9000")])).contains("\(key): unknown key"))
    }

    @Test("extra upstream params are free-form maps, but cannot override what the shim sets")
    func extraParams() throws {
        let free = try Self.load(
            Self.tree(upstream: [
                "extra_authorize_params": .map([
                    "prompt": .string("select_account"),
                    "domain_hint": .string("example.com"),
                ])
            ])
        ).get()
        #expect(free.upstream.extraAuthorizeParams == ["prompt": "select_account", "domain_hint": "example.com"])
        let problems = Self.problems(
            Self.tree(upstream: [
                "extra_authorize_params": .map(["redirect_uri": .string("https://evil.example"), "code_challenge_method": .string("plain")]),
                "extra_token_params": .map(["client_id": .string("other")]),
            ]))
        #expect(problems.contains("upstream.extra_authorize_params.redirect_uri: set by the shim itself; cannot be overridden"))
        #expect(problems.contains("upstream.extra_authorize_params.code_challenge_method: set by the shim itself; cannot be overridden"))
        #expect(problems.contains("upstream.extra_token_params.client_id: set by the shim itself; cannot be overridden"))
    }

    @Test(
        "issuer: https, or http on loopback only; no userinfo, query or fragment (RFC 8414 §2)",
        arguments: [
            ("https://auth.example.com", true), ("https://auth.example.com/tenant-a", true), ("http://127.0.0.1:8080", true),
            ("http://localhost:8080", true), ("http://[::1]:8080", true),
            ("http://auth.example.com", false), ("http://10.0.0.5:8080", false), ("http://localhost.:8080", false),
            ("http://127.1:8080", false), ("http://0.0.0.0:8080", false), ("https://u@auth.example.com", false),
            ("https://auth.example.com?x=1", false), ("https://auth.example.com#x", false), ("auth.example.com", false),
            ("ftp://auth.example.com", false), ("", false),
        ])
    func issuer(_ issuer: String, _ valid: Bool) {
        let result = Self.load(Self.tree(["issuer": .string(issuer)]))
        guard case .failure(let problems) = result else {
            #expect(valid, "\(issuer) loaded")
            return
        }
        #expect(!valid, "\(problems.problems)")
        #expect(problems.problems.contains { $0.hasPrefix("issuer:") })
    }

    @Test("the entra preset: tenant required, scopes fully qualified, no .default mix, offline_access added once")
    func entra() throws {
        let good = Self.tree(
            ["resources": Self.entraResources],
            upstream: ["preset": .string("entra"), "tenant": .string("t"), "issuer": .null, "scopes": .list([.string("openid")])])
        #expect(try Self.load(good).get().upstream.scopes == ["openid", "offline_access"])
        let already = Self.tree(["resources": Self.entraResources], upstream: ["preset": .string("entra"), "tenant": .string("t"), "issuer": .null])
        #expect(try Self.load(already).get().upstream.scopes == ["openid", "profile", "offline_access"])

        let noTenant = Self.problems(Self.tree(["resources": Self.entraResources], upstream: ["preset": .string("entra"), "issuer": .null]))
        #expect(noTenant == ["upstream.tenant: required for the entra preset (tenant id or domain)"])

        let bad = Self.tree(
            [
                "resources": .list([
                    .map([
                        "resource": .string("https://m/mcp"),
                        "scopes": .list([.string("mcp.access"), .string("api://app/.default")]),
                    ])
                ])
            ],
            upstream: ["preset": .string("entra"), "tenant": .string("t")])
        #expect(
            Set(Self.problems(bad)) == [
                "resources[0].scopes: \"mcp.access\" must be fully qualified (api://<app-id>/mcp.access)",
                "resources[0].scopes: Entra does not mix .default with named scopes",
            ])
        let empty = Self.tree(
            ["resources": .list([.map(["resource": .string("https://m/mcp")])])],
            upstream: ["preset": .string("entra"), "tenant": .string("t")])
        #expect(Self.problems(empty) == ["resources[0].scopes: Entra needs at least one scope such as api://<app-id>/<name>"])
    }

    @Test(
        "validation refuses what is unsafe or not built, naming the key",
        arguments: [
            (["tokens": ConfigValue.map(["access": .string("jwt")])], "tokens.access:"),
            (["storage": .map(["url": .string("mysql://db/x")])], "storage.url:"),
            (["redirects": .map(["clients": .list([.string("claud")])])], "redirects.clients:"),
            (["redirects": .map(["allow": .list([.string("http://app.example.com/cb")])])], "redirects.allow[0]:"),
            (["redirects": .map(["allow": .list([.string("https://app.example.com/cb#x")])])], "redirects.allow[0]:"),
            (["redirects": .map(["allow": .list([.string("javascript://x/y")])])], "redirects.allow[0]:"),
            (["redirects": .map(["clients": .list([])])], "redirects:"),
            (["consent": .map(["mode": .string("never")])], "consent.mode:"),
            (["tokens": .map(["refresh_grace": .string("10m")])], "tokens.refresh_grace:"),
            (["tokens": .map(["refresh_ttl": .string("soon")])], "tokens.refresh_ttl:"),
            (["listen": .map(["port": .string("65536")])], "listen.port:"),
            (["listen": .map(["port": .string("80 80")])], "listen.port:"),
            (["listen": .map(["port": .map([:])])], "listen.port:"),
            (["keys": .map(["cookie_key": .string("c2hvcnQ=")])], "keys.cookie_key:"),
            (["log": .map(["level": .string("verbose")])], "log.level:"),
            (["log": .map(["format": .string("xml")])], "log.format:"),
            (["keys": .map(["previous_cookie_keys": .list([.string(String(repeating: "A", count: 43))])])], "keys.previous_cookie_keys:"),
            (
                [
                    "keys": .map([
                        "encryption_key": .string(String(repeating: "A", count: 43)),
                        "previous_encryption_keys": .list([.string("c2hvcnQ=")]),
                    ])
                ], "keys.previous_encryption_keys[0]:"
            ),
            (["resources": .list([])], "resources:"),
            (["resources": .string("https://m/mcp")], "resources:"),
            (["resources": .list([.map(["resource": .string("https://m/mcp#x"), "scopes": .list([])])])], "resources[0].resource:"),
            (["resources": .list([.map(["resource": .string("urn:x"), "scopes": .list([])])])], "resources[0].resource:"),
            (["upstream": .map(["client_id": .string("c"), "client_secret": .string("s")])], "upstream.issuer:"),
            (
                ["upstream": .map(["issuer": .string("http://idp.example"), "client_id": .string("c"), "client_secret": .string("s")])],
                "upstream.issuer:"
            ),
            (["upstream": .map(["issuer": .string("https://idp.example"), "client_secret": .string("s")])], "upstream.client_id:"),
            (
                [
                    "upstream": .map([
                        "issuer": .string("https://idp.example"), "client_id": .string("c"), "client_secret": .string("s"),
                        "preset": .string("azure"),
                    ])
                ], "upstream.preset:"
            ),
        ])
    func refused(_ overrides: [String: ConfigValue], _ key: String) {
        #expect(Self.problems(Self.tree(overrides)).contains { $0.hasPrefix(key) })
    }

    @Test(
        "durations: 45s, 10m, 12h, 30d or bare seconds",
        arguments: [
            ("45s", 45), ("10m", 600), ("12h", 43200), ("30d", 2_592_000), ("90", 90), ("0", 0),
        ])
    func durations(_ text: String, _ seconds: Int) {
        #expect(ConfigReader.parseDuration(text) == seconds)
    }

    @Test("not durations", arguments: ["", "s", "-5s", "-5", "5x", "1.5h", "5 s", "5S", "d30", "1w"])
    func notDurations(_ text: String) {
        #expect(ConfigReader.parseDuration(text) == nil)
    }

    /// check-config must print every problem; a trap on overflow kills it instead.
    @Test("a huge duration is a problem, not a crash (Int overflow)")
    func hugeDuration() async {
        await #expect(processExitsWith: .success) {
            _ = ConfigReader.parseDuration("999999999999999999d")
        }
    }
}
