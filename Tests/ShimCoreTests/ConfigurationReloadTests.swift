import ShimCore
import Testing

/// A reload (SIGHUP) applies the new configuration to the requests that
/// start afterwards, except the settings only a restart can change: those
/// keep their running values and are named, each once, for the log
/// (`ShimConfiguration.reloading`).
@Suite("Configuration reload: live settings applied, restart-only settings kept and named")
struct ConfigurationReloadTests {
    static let encryptionKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    static let otherEncryptionKey = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="

    /// A gateway resource (issued tokens) at the shim's own host.
    static func gatewayResource(scopes: [String] = ["mcp.read", "mcp.write"], upstream: String = "http://127.0.0.1:3000/mcp") -> ConfigValue {
        .map([
            "resource": .string("https://auth.example.com/mcp"), "scopes": .list(scopes.map { .string($0) }),
            "upstream": .string(upstream),
        ])
    }

    static func upstream(clientID: String = "static") -> ConfigValue {
        .map([
            "issuer": .string("https://idp.example"), "client_id": .string(clientID), "client_secret": .string("file-secret"),
            "scopes": .list([.string("openid")]),
        ])
    }

    /// The running configuration: every setting the table changes is set,
    /// so a row's new file differs from it in that one top-level key.
    /// `overrides` replace whole top-level keys.
    static func tree(_ overrides: [String: ConfigValue] = [:]) -> ConfigValue {
        var root: [String: ConfigValue] = [
            "issuer": .string("https://auth.example.com"),
            "listen": .map(["port": .string("8080")]),
            "upstream": upstream(),
            "storage": .map(["url": .string("sqlite://./dcr-shim.db")]),
            "keys": .map(["encryption_key": .string(encryptionKey)]),
            "tokens": .map(["access": .string("issued")]),
            "resources": .list([gatewayResource()]),
            "redirects": .map(["clients": .list([.string("claude")]), "allow": .list([.string("https://app.example.com/oauth/callback")])]),
            "consent": .map(["mode": .string("always")]),
            "ema": .map([
                "issuer": .map(["enabled": .string("true")]), "clients": .list([EMAConfigurationTests.client]),
                "policy": .list([EMAConfigurationTests.rule]),
            ]),
            "cimd": .map(["allowed_hosts": .list([.string("claude.ai")])]),
            "log": .map(["level": .string("info")]),
            "registration": .map(["rate_limit": .string("20"), "max_clients": .string("1000")]),
            "gateway": .map(["max_connections": .string("100")]),
        ]
        root.merge(overrides) { $1 }
        return .map(root)
    }

    static func config(_ overrides: [String: ConfigValue] = [:]) throws -> ShimConfiguration {
        try ConfigurationTests.load(tree(overrides)).get()
    }

    static let otherRule: ConfigValue = .map([
        "clients": .list([.string("mcp-client")]), "audience": .string("https://as-c.example.com"),
        "resources": .list([.string("https://mcp-c.example.com/mcp")]), "scopes": .list([.string("mcp")]),
        "client_id": .string("client-at-c"),
    ])

    /// Each row changes one live setting.
    static let liveChanges: [(String, [String: ConfigValue])] = [
        ("redirects.allow", ["redirects": .map(["clients": .list([.string("claude")])])]),
        (
            "redirects.clients",
            ["redirects": .map(["clients": .list([.string("vscode")]), "allow": .list([.string("https://app.example.com/oauth/callback")])])]
        ),
        ("consent.mode", ["consent": .map(["mode": .string("remember")])]),
        ("resources[0].scopes", ["resources": .list([gatewayResource(scopes: ["mcp.read", "mcp.write", "mcp.admin"])])]),
        (
            "ema.policy",
            [
                "ema": .map([
                    "issuer": .map(["enabled": .string("true")]), "clients": .list([EMAConfigurationTests.client]),
                    "policy": .list([EMAConfigurationTests.rule, otherRule]),
                ])
            ]
        ),
        ("cimd.allowed_hosts", ["cimd": .map(["allowed_hosts": .list([.string("claude.ai"), .string("*.example.com")])])]),
        ("resources[0].upstream (gateway)", ["resources": .list([gatewayResource(upstream: "http://127.0.0.1:4000/mcp")])]),
        ("log.level", ["log": .map(["level": .string("debug")])]),
        ("registration.rate_limit", ["registration": .map(["rate_limit": .string("5"), "max_clients": .string("1000")])]),
        ("registration.max_clients", ["registration": .map(["rate_limit": .string("20"), "max_clients": .string("50")])]),
        ("api_description.path", ["api_description": .map(["path": .string("/openapi.yaml")])]),
    ]

    @Test("a live setting is applied, and nothing is named", arguments: liveChanges)
    func liveSettingApplied(_ setting: String, _ overrides: [String: ConfigValue]) throws {
        let running = try Self.config()
        let new = try Self.config(overrides)
        #expect(new != running, "the row changes nothing: \(setting)")
        let (applied, restartOnly) = running.reloading(new)
        #expect(applied == new, "\(setting)")
        #expect(restartOnly.isEmpty, "\(setting): \(restartOnly)")
    }

    /// Each row changes one restart-only setting; the name the log gives it.
    static let restartOnlyChanges: [(String, [String: ConfigValue])] = [
        ("issuer", ["issuer": .string("https://auth2.example.com")]),
        ("listen.port", ["listen": .map(["port": .string("9090")])]),
        ("storage.url", ["storage": .map(["url": .string("sqlite://./other.db")])]),
        ("upstream", ["upstream": upstream(clientID: "another-client")]),
        ("keys.encryption_key", ["keys": .map(["encryption_key": .string(otherEncryptionKey)])]),
        ("cimd.enabled", ["cimd": .map(["enabled": .string("false"), "allowed_hosts": .list([.string("claude.ai")])])]),
        ("gateway.max_connections", ["gateway": .map(["max_connections": .string("64")])]),
        ("gateway.pool_idle_timeout", ["gateway": .map(["max_connections": .string("100"), "pool_idle_timeout": .string("2s")])]),
        ("listen.shutdown_grace", ["listen": .map(["shutdown_grace": .string("5s")])]),
        ("reload.watch_interval", ["reload": .map(["watch_interval": .string("5s")])]),
    ]

    @Test("a restart-only setting keeps its running value and is named exactly once", arguments: restartOnlyChanges)
    func restartOnlySettingKept(_ setting: String, _ overrides: [String: ConfigValue]) throws {
        let running = try Self.config()
        let new = try Self.config(overrides)
        #expect(new != running, "the row changes nothing: \(setting)")
        let (applied, restartOnly) = running.reloading(new)
        #expect(applied == running, "\(setting)")
        #expect(restartOnly == [setting])
    }

    /// `tokens.access` from upstream to issued: the running file has no
    /// gateway or EMA (they need issued tokens), so both files load.
    @Test("tokens.access keeps its running value and is named exactly once")
    func tokenModeKept() throws {
        let running = try ConfigurationTests.load(ConfigurationTests.tree()).get()
        let new = try ConfigurationTests.load(ConfigurationTests.tree(["tokens": .map(["access": .string("issued")])])).get()
        #expect(running.accessTokenMode == .upstream && new.accessTokenMode == .issued)
        let (applied, restartOnly) = running.reloading(new)
        #expect(applied == running)
        #expect(restartOnly == ["tokens.access"])
    }

    @Test("live and restart-only changes together: the live ones applied, each restart-only one named once")
    func mixed() throws {
        let running = try Self.config()
        let new = try Self.config([
            "issuer": .string("https://auth2.example.com"),
            "listen": .map(["port": .string("9090"), "shutdown_grace": .string("5s")]),
            "upstream": Self.upstream(clientID: "another-client"),
            "storage": .map(["url": .string("sqlite://./other.db")]),
            "keys": .map(["encryption_key": .string(Self.otherEncryptionKey)]),
            "resources": .list([Self.gatewayResource(scopes: ["mcp.read", "mcp.write", "mcp.admin"], upstream: "http://127.0.0.1:4000/mcp")]),
            "redirects": .map(["clients": .list([.string("vscode")])]),
            "consent": .map(["mode": .string("remember")]),
            "ema": .map([
                "issuer": .map(["enabled": .string("true")]), "clients": .list([EMAConfigurationTests.client]),
                "policy": .list([EMAConfigurationTests.rule, Self.otherRule]),
            ]),
            "cimd": .map(["enabled": .string("false"), "allowed_hosts": .list([.string("claude.ai"), .string("*.example.com")])]),
            "log": .map(["level": .string("debug")]),
            "registration": .map(["rate_limit": .string("5"), "max_clients": .string("50")]),
            "gateway": .map(["max_connections": .string("64"), "pool_idle_timeout": .string("2s")]),
            "reload": .map(["watch_interval": .string("5s")]),
        ])
        let (applied, restartOnly) = running.reloading(new)

        #expect(restartOnly.sorted() == Self.restartOnlyChanges.map { $0.0 }.sorted())
        #expect(Set(restartOnly).count == restartOnly.count, "a setting named twice: \(restartOnly)")
        // Restart-only: the running values.
        #expect(applied.issuer == running.issuer && applied.listenPort == running.listenPort)
        #expect(applied.storageURL == running.storageURL && applied.storage == running.storage)
        #expect(applied.upstream == running.upstream && applied.encryptionKey == running.encryptionKey)
        #expect(applied.cimd.enabled && applied.gateway.maxConnections == running.gateway.maxConnections)
        // Live: the new values.
        #expect(applied.redirectClients == ["vscode"] && applied.redirectAllow.isEmpty)
        #expect(applied.consentMode == .remember && applied.resources == new.resources && applied.resources != running.resources)
        #expect(applied.ema.policy == new.ema.policy && applied.ema.policy.count == 2)
        #expect(applied.cimd.allowedHosts == ["claude.ai", "*.example.com"])
        #expect(applied.gatewayResources == new.gatewayResources && applied.gatewayResources != running.gatewayResources)
        #expect(applied.logLevel == .debug && applied.registrationRateLimit == 5 && applied.maxClients == 50)
    }

    @Test("the same configuration again: applied as it is, nothing named")
    func identical() throws {
        let running = try Self.config()
        let again = try Self.config()
        #expect(running == again)
        let (applied, restartOnly) = running.reloading(again)
        #expect(applied == running)
        #expect(restartOnly.isEmpty)
    }
}
