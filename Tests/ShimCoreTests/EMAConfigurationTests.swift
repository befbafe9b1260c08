import ShimCore
import Testing

/// `ema.*` (docs/configuration.md): both halves of Enterprise-Managed
/// Authorization, validated by check-config.
@Suite("Configuration: Enterprise-Managed Authorization")
struct EMAConfigurationTests {
    static let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"k"}]}"#

    static func tree(_ ema: [String: ConfigValue], tokens: String = "issued") -> ConfigValue {
        guard case .map(var root) = ConfigurationTests.tree([:], upstream: ["scopes": .list([.string("openid")])]) else { return .null }
        root["tokens"] = .map(["access": .string(tokens)])
        root["ema"] = .map(ema)
        return .map(root)
    }

    static let client: ConfigValue = .map(["id": .string("mcp-client"), "secret": .string("client-secret-0123456789")])
    static let rule: ConfigValue = .map([
        "clients": .list([.string("mcp-client")]), "audience": .string("https://as-b.example.com"),
        "resources": .list([.string("https://mcp-b.example.com/mcp")]), "scopes": .list([.string("mcp")]),
        "client_id": .string("client-at-b"), "groups": .list([.string("eng")]),
    ])

    @Test("both halves load with their defaults")
    func loads() throws {
        let config = try ConfigurationTests.load(
            Self.tree([
                "trusted_issuers": .list([
                    .map(["issuer": .string("https://idp.example.com"), "jwks_uri": .string("https://idp.example.com/jwks")]),
                    .map([
                        "issuer": .string("https://idp2.example.com"), "jwks": .string(Self.jwks),
                        "algorithms": .list([.string("ES256")]), "email_authoritative": .string("true"),
                    ]),
                ]),
                "clients": .list([Self.client]),
                "issuer": .map(["enabled": .string("true"), "lifetime": .string("2m")]),
                "policy": .list([Self.rule]),
            ])
        ).get()
        let ema = config.ema
        #expect(
            ema.trustedIssuers == [
                TrustedIssuer(issuer: "https://idp.example.com", jwksURI: "https://idp.example.com/jwks"),
                TrustedIssuer(issuer: "https://idp2.example.com", jwks: Self.jwks, algorithms: ["ES256"], emailAuthoritative: true),
            ])
        #expect(ema.clients == [EMAClient(id: "mcp-client", secret: "client-secret-0123456789")])
        #expect(
            ema.maxAssertionLifetimeSeconds == 600 && ema.issuer.enabled && ema.issuer.lifetimeSeconds == 120 && ema.issuer.groupsClaim == "groups")
        #expect(
            ema.policy == [
                EMAPolicyRule(
                    clients: ["mcp-client"], groups: ["eng"], audience: "https://as-b.example.com",
                    resources: ["https://mcp-b.example.com/mcp"], scopes: ["mcp"], clientID: "client-at-b")
            ])
        #expect(ema.acceptsAssertions)
    }

    @Test(
        "refused, naming the key",
        arguments: [
            (
                ["trusted_issuers": ConfigValue.list([.map(["issuer": .string("http://idp.example.com"), "jwks_uri": .string("https://x/j")])])],
                "ema.trusted_issuers[0].issuer:"
            ),
            (["trusted_issuers": .list([.map(["issuer": .string("https://idp.example.com")])])], "ema.trusted_issuers[0]:"),
            (
                [
                    "trusted_issuers": .list([
                        .map([
                            "issuer": .string("https://idp.example.com"), "jwks_uri": .string("https://x/j"),
                            "jwks": .string(jwks),
                        ])
                    ])
                ], "ema.trusted_issuers[0]:"
            ),
            (
                ["trusted_issuers": .list([.map(["issuer": .string("https://idp.example.com"), "jwks_uri": .string("http://x/j")])])],
                "ema.trusted_issuers[0].jwks_uri:"
            ),
            (
                ["trusted_issuers": .list([.map(["issuer": .string("https://idp.example.com"), "jwks": .string("[1,2]")])])],
                "ema.trusted_issuers[0].jwks:"
            ),
            (
                [
                    "trusted_issuers": .list([
                        .map([
                            "issuer": .string("https://idp.example.com"), "jwks": .string(jwks),
                            "algorithms": .list([.string("HS256")]),
                        ])
                    ])
                ], "ema.trusted_issuers[0].algorithms:"
            ),
            (
                [
                    "trusted_issuers": .list([
                        .map([
                            "issuer": .string("https://idp.example.com"), "jwks": .string(jwks),
                            "algorithms": .list([.string("none")]),
                        ])
                    ])
                ], "ema.trusted_issuers[0].algorithms:"
            ),
            (
                ["trusted_issuers": .list([.map(["issuer": .string("https://auth.example.com"), "jwks": .string(jwks)])])],
                "ema.trusted_issuers[0].issuer:"
            ),
            (
                [
                    "clients": .list([.map(["id": .string("c"), "secret": .string("short")])]), "issuer": .map(["enabled": .string("true")]),
                    "policy": .list([rule]),
                ], "ema.clients[0].secret:"
            ),
            (["clients": .list([client])], "ema.clients:"),
            (["issuer": .map(["enabled": .string("true")])], "ema.policy:"),
            (["policy": .list([rule]), "clients": .list([client])], "ema.policy:"),
            (
                [
                    "issuer": .map(["enabled": .string("true")]), "clients": .list([client]),
                    "policy": .list([
                        .map([
                            "clients": .list([.string("unknown-app")]), "audience": .string("https://as.example.com"),
                            "resources": .list([.string("https://m/mcp")]), "scopes": .list([.string("mcp")]),
                            "client_id": .string("x"),
                        ])
                    ]),
                ], "ema.policy[0].clients:"
            ),
            (
                [
                    "issuer": .map(["enabled": .string("true")]), "clients": .list([client]),
                    "policy": .list([
                        .map([
                            "clients": .list([.string("mcp-client")]), "audience": .string("not a url"),
                            "resources": .list([]), "scopes": .list([]), "client_id": .string(""),
                        ])
                    ]),
                ], "ema.policy[0].audience:"
            ),
            (["insecure_private_hosts": .list([.string("127.0.0.1")])], "ema.insecure_private_hosts"),
            (["max_assertion_lifetime": .string("2h")], "ema.max_assertion_lifetime:"),
            (
                ["issuer": .map(["enabled": .string("true"), "lifetime": .string("5s")]), "clients": .list([client]), "policy": .list([rule])],
                "ema.issuer.lifetime:"
            ),
            // The shim would refuse its own ID-JAGs: they would live longer than it accepts.
            (
                [
                    "issuer": .map(["enabled": .string("true"), "lifetime": .string("15m")]), "max_assertion_lifetime": .string("10m"),
                    "clients": .list([client]), "policy": .list([rule]),
                ], "ema.issuer.lifetime:"
            ),
            // An https id is taken for a Client ID Metadata Document URL, never authenticated as a configured client.
            (
                [
                    "issuer": .map(["enabled": .string("true")]), "policy": .list([rule]),
                    "clients": .list([.map(["id": .string("https://app.example.com/client"), "secret": .string("client-secret-0123456789")])]),
                ],
                "ema.clients[0].id:"
            ),
        ])
    func refused(_ ema: [String: ConfigValue], _ key: String) {
        let problems = ConfigurationTests.problems(Self.tree(ema))
        #expect(problems.contains { $0.hasPrefix(key) }, "\(problems)")
    }

    @Test("leg 1 needs the upstream's published keys: GitHub, or fixed endpoints without upstream.issuer, are refused")
    func legOneNeedsKeys() {
        let issuing: [String: ConfigValue] = [
            "issuer": .map(["enabled": .string("true")]), "clients": .list([Self.client]), "policy": .list([Self.rule]),
        ]
        func problems(upstream: [String: ConfigValue]) -> [String] {
            guard case .map(var root) = Self.tree(issuing) else { return [] }
            var up: [String: ConfigValue] = [
                "client_id": .string("static"), "client_secret": .string("file-secret"),
                "scopes": .list([.string("openid")]),
            ]
            up.merge(upstream) { $1 }
            root["upstream"] = .map(up)
            guard case .failure(let failure) = ConfigurationTests.load(.map(root)) else { return [] }
            return failure.problems.filter { $0.hasPrefix("ema.issuer.enabled:") }
        }
        let fixed: [String: ConfigValue] = [
            "authorization_endpoint": .string("https://idp.example/authorize"),
            "token_endpoint": .string("https://idp.example/token"),
        ]
        #expect(problems(upstream: fixed).count == 1)
        // upstream.jwks_uri alone names no issuer to check `iss` against.
        #expect(problems(upstream: fixed.merging(["jwks_uri": .string("https://idp.example/keys")]) { $1 }).count == 1)
        #expect(problems(upstream: fixed.merging(["issuer": .string("https://idp.example")]) { $1 }).count == 1)
        #expect(problems(upstream: ["preset": .string("github")]).count == 1)
        // Discovery, fixed endpoints with their issuer, Entra's own endpoints: keys and issuer are known.
        #expect(problems(upstream: ["issuer": .string("https://idp.example")]).isEmpty)
        #expect(
            problems(upstream: fixed.merging(["issuer": .string("https://idp.example"), "jwks_uri": .string("https://idp.example/keys")]) { $1 })
                .isEmpty)
        #expect(problems(upstream: ["preset": .string("entra"), "tenant": .string("contoso.onmicrosoft.com")]).isEmpty)
    }

    @Test("accepting ID-JAGs needs issued tokens")
    func needsIssued() {
        let problems = ConfigurationTests.problems(
            Self.tree(
                [
                    "trusted_issuers": .list([
                        .map([
                            "issuer": .string("https://idp.example.com"),
                            "jwks": .string(Self.jwks),
                        ])
                    ])
                ],
                tokens: "upstream"))
        #expect(problems.contains { $0.hasPrefix("ema: accepting ID-JAGs needs tokens.access: issued") })
    }

    @Test("PostgreSQL replicas share one signing key: without keys.signing_key each would sign with its own")
    func replicasShareTheSigningKey() {
        var ema = Self.tree([:])
        if case .map(var root) = ema {
            root["storage"] = .map(["url": .string("postgres://shim@db.example.com/shim")])
            ema = .map(root)
        }
        #expect(ConfigurationTests.problems(ema).contains { $0.hasPrefix("keys.signing_key:") })
    }
}
