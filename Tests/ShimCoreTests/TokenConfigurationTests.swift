import ShimCore
import Testing

/// `tokens.*`, `keys.*signing*`, `introspection.*`, `gateway.*` and the
/// gateway keys of `resources[i]` (docs/configuration.md).
@Suite("Configuration: issued tokens, signing keys, introspection, gateway")
struct TokenConfigurationTests {
    /// Throw-away test keys (openssl), never used anywhere else.
    static let p256Private = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwKbapROeatGwO3T+
        nX44Q6AZVKdoJ5PdYvCJX4cNhvWhRANCAARzwbMyNPSOQ/qT82ALbNsUmZqts135
        MH6t3UKI2XCT9Vx67AJAYGNgLfvCwEIVSIdu+FntHTtokTyCdMb5q4Dr
        -----END PRIVATE KEY-----
        """
    static let p256Public = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEx0iEWhEudnCtMnwdsB9mRVvS8Ub5
        Yjd1Nm3Wo8tjoNwj/7eL2pOP/WSPMeV1rjHYkj3feIHNop+IO4HFloQ9lw==
        -----END PUBLIC KEY-----
        """
    static let p384Private = """
        -----BEGIN PRIVATE KEY-----
        MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDARcQtxv2puE1/L3+Y6
        bGVWG+/Yc5E3SKFqmhZZI1CUT5pFIMAVjslIGZsltmafOc+hZANiAAT8PuDjIUFe
        arrzWrsX9HO6bmiMnP7Tj3sWSNKvT/3RT3ZPhg0EQEWsHInUx75pj2F2jhFfYEyB
        ujszX90k96MUvIWbjKJ1YLCJ711hEcP8Ae6aYlnW8Fb4C9kyKV8m34w=
        -----END PRIVATE KEY-----
        """

    static let resource = "https://auth.example.com/mcp"

    static func tree(
        _ overrides: [String: ConfigValue] = [:], gateway: [String: ConfigValue]? = nil,
        upstream: [String: ConfigValue] = [:]
    ) -> ConfigValue {
        var resource: [String: ConfigValue] = ["resource": .string(resource), "scopes": .list([.string("mcp.read"), .string("mcp.write")])]
        if let gateway { resource.merge(gateway) { $1 } }
        var root: [String: ConfigValue] = ["tokens": .map(["access": .string("issued")]), "resources": .list([.map(resource)])]
        root.merge(overrides) { $1 }
        guard case .map(let base) = ConfigurationTests.tree([:], upstream: upstream) else { return .null }
        return .map(base.merging(root) { $1 })
    }

    @Test("issued mode loads with the documented defaults")
    func defaults() throws {
        let config = try ConfigurationTests.load(Self.tree()).get()
        #expect(config.accessTokenMode == .issued && config.issuedTokens.accessTTLSeconds == 300)
        #expect(config.issuedTokens.copiedClaims.isEmpty && !config.issuedTokens.insecureUpstreamAudienceAck)
        #expect(config.signingKeys.signingKey == nil && config.signingKeys.previousSigningKeys.isEmpty)
        #expect(config.introspectionClients.isEmpty && config.gatewayResources.isEmpty)
        #expect(config.gateway == GatewayConfiguration())
        #expect(
            config.gateway.responseTimeoutSeconds == 120 && config.gateway.idleTimeoutSeconds == 300
                && config.gateway.maxRequestBytes == 4 * 1024 * 1024 && config.gateway.maxConnections == 1000)
        // Below uvicorn's and Node.js's 5 s keep-alive, so the pool never reuses a connection the server is closing.
        #expect(config.gateway.poolIdleTimeoutSeconds == 4)
    }

    @Test("every key read: from the file, the environment and _file secrets")
    func everyKey() throws {
        let tree = Self.tree(
            [
                "tokens": .map(["access": .string("issued"), "access_ttl": .string("10m"), "claims": .list([.string("oid"), .string("roles")])]),
                "keys": .map(["signing_key_file": .string("/k.pem"), "previous_signing_keys_file": .string("/old.pem")]),
                "introspection": .map(["clients": .list([.map(["id": .string("rs"), "secret_file": .string("/rs")])])]),
                "gateway": .map([
                    "response_timeout": .string("30s"), "idle_timeout": .string("2m"), "connect_timeout": .string("2s"),
                    "max_request_bytes": .string("2048"), "max_connections": .string("64"), "pool_idle_timeout": .string("2s"),
                ]),
            ],
            gateway: [
                "upstream": .string("http://127.0.0.1:3000/mcp"), "required_scopes": .list([.string("mcp.read")]),
                "upstream_token_header": .string("X-Upstream-Token"), "identity_headers": .string("false"),
                "allowed_origins": .list([.string("https://app.example.com")]), "identity_assertion": .string("true"),
            ])
        let files = ["/k.pem": Self.p256Private, "/old.pem": Self.p256Public + "\n" + Self.p256Private, "/rs": "rs-secret-0123456789\n"]
        let config = try ConfigurationTests.load(tree, env: ["DCR_SHIM_TOKENS_ACCESS_TTL": "90s"], files: files).get()
        #expect(config.issuedTokens.accessTTLSeconds == 90 && config.issuedTokens.copiedClaims == ["oid", "roles"])
        #expect(config.signingKeys.signingKey?.hasPrefix("-----BEGIN PRIVATE KEY-----") == true)
        #expect(config.signingKeys.previousSigningKeys.count == 2)
        #expect(config.introspectionClients == [IntrospectionClient(id: "rs", secret: "rs-secret-0123456789", resources: [Self.resource])])
        #expect(
            config.gatewayResources == [
                GatewayResource(
                    resource: Self.resource, upstream: "http://127.0.0.1:3000/mcp",
                    requiredScopes: ["mcp.read"], upstreamTokenHeader: "X-Upstream-Token",
                    identityHeaders: false, allowedOrigins: ["https://app.example.com"], identityAssertion: true)
            ])
        #expect(config.gateway.responseTimeoutSeconds == 30 && config.gateway.idleTimeoutSeconds == 120 && config.gateway.connectTimeoutSeconds == 2)
        #expect(config.gateway.maxRequestBytes == 2048 && config.gateway.maxConnections == 64 && config.gateway.poolIdleTimeoutSeconds == 2)
    }

    @Test("previous signing keys as a YAML list of PEM blocks, private or public")
    func previousKeysList() throws {
        let tree = Self.tree([
            "keys": .map([
                "signing_key": .string(Self.p256Private),
                "previous_signing_keys": .list([.string(Self.p256Public)]),
            ])
        ])
        #expect(try ConfigurationTests.load(tree).get().signingKeys.previousSigningKeys == [Self.p256Public])
    }

    @Test(
        "refused, naming the key",
        arguments: [
            (["tokens": ConfigValue.map(["access": .string("issued"), "access_ttl": .string("2s")])], "tokens.access_ttl:"),
            (["tokens": .map(["access": .string("issued"), "claims": .list([.string("iss")])])], "tokens.claims[0]:"),
            (["tokens": .map(["access": .string("issued"), "claims": .list([.string("sid")])])], "tokens.claims[0]:"),
            (["tokens": .map(["access": .string("issued"), "claims": .list([.string("a b")])])], "tokens.claims[0]:"),
            (["keys": .map(["signing_key": .string("not a pem")])], "keys.signing_key:"),
            (["keys": .map(["signing_key": .string(p384Private)])], "keys.signing_key:"),  // ES384 is not ES256
            (["keys": .map(["signing_key": .string(p256Public)])], "keys.signing_key:"),  // a public key cannot sign
            (["keys": .map(["previous_signing_keys": .list([.string(p256Public)])])], "keys.previous_signing_keys:"),
            (
                ["keys": .map(["signing_key": .string(p256Private), "previous_signing_keys": .list([.string("x")])])],
                "keys.previous_signing_keys[0]:"
            ),
            (
                ["introspection": .map(["clients": .list([.map(["id": .string("rs"), "secret": .string("short")])])])],
                "introspection.clients[0].secret:"
            ),
            (["introspection": .map(["clients": .list([.map(["secret": .string("0123456789abcdef0")])])])], "introspection.clients[0].id:"),
            (
                [
                    "introspection": .map([
                        "clients": .list([
                            .map(["id": .string("a"), "secret": .string("0123456789abcdef0")]),
                            .map(["id": .string("a"), "secret": .string("0123456789abcdef0")]),
                        ])
                    ])
                ], "introspection.clients[1].id:"
            ),
            (
                [
                    "introspection": .map([
                        "clients": .list([
                            .map([
                                "id": .string("a"), "secret": .string("0123456789abcdef0"),
                                "resources": .list([.string("https://other/mcp")]),
                            ])
                        ])
                    ])
                ], "introspection.clients[0].resources:"
            ),
            (
                [
                    "introspection": .map([
                        "clients": .list([.map(["id": .string("a"), "secret": .string("0123456789abcdef0"), "scopes": .string("x")])])
                    ])
                ],
                "introspection.clients[0].scopes"
            ),
            (["gateway": .map(["idle_timeout": .string("1s")])], "gateway.idle_timeout:"),
            (["gateway": .map(["max_request_bytes": .string("10")])], "gateway.max_request_bytes:"),
        ])
    func refused(_ overrides: [String: ConfigValue], _ key: String) {
        let problems = ConfigurationTests.problems(Self.tree(overrides))
        #expect(problems.contains { $0.hasPrefix(key) }, "\(problems)")
    }

    @Test(
        "gateway resources refused, naming the key",
        arguments: [
            (["upstream": ConfigValue.string("ftp://x/mcp")], "resources[0].upstream:"),
            (["upstream": .string("http://user:pw@x/mcp")], "resources[0].upstream:"),
            (["upstream": .string("not a url")], "resources[0].upstream:"),
            (["upstream": .string("http://x/mcp"), "required_scopes": .list([.string("admin")])], "resources[0].required_scopes:"),
            (["upstream": .string("http://x/mcp"), "upstream_token_header": .string("Host")], "resources[0].upstream_token_header:"),
            (["upstream": .string("http://x/mcp"), "upstream_token_header": .string("Transfer-Encoding")], "resources[0].upstream_token_header:"),
            (["upstream": .string("http://x/mcp"), "upstream_token_header": .string("X Token")], "resources[0].upstream_token_header:"),
            (
                ["upstream": .string("http://x/mcp"), "allowed_origins": .list([.string("https://app.example.com/path")])],
                "resources[0].allowed_origins[0]:"
            ),
            (["required_scopes": .list([.string("mcp.read")])], "resources[0]:"),  // gateway keys without upstream
            (["upstream": .string("http://x/mcp"), "upstreams": .string("x")], "resources[0].upstreams"),
            // The request's path and query are appended to the upstream URL: it has neither query nor fragment.
            (["upstream": .string("http://127.0.0.1:3000/mcp?key=1")], "resources[0].upstream:"),
            (["upstream": .string("http://127.0.0.1:3000/mcp?")], "resources[0].upstream:"),
            (["upstream": .string("http://127.0.0.1:3000/mcp#x")], "resources[0].upstream:"),
            // Identity in clear text across the network only when said so.
            (["upstream": .string("http://mcp.internal:3000/mcp")], "resources[0].upstream: plain http"),
            (["upstream": .string("http://10.0.0.5/mcp")], "resources[0].upstream: plain http"),
            (["upstream": .string("https://mcp.internal/mcp"), "insecure_http_upstream": .string("maybe")], "resources[0].insecure_http_upstream"),
            (["insecure_http_upstream": .string("true")], "resources[0]:"),  // without upstream
            // The token header may not be one the gateway removes or sets itself.
            (
                ["upstream": .string("http://127.0.0.1:3000/mcp"), "upstream_token_header": .string("X-Forwarded-User")],
                "resources[0].upstream_token_header:"
            ),
            (
                ["upstream": .string("http://127.0.0.1:3000/mcp"), "upstream_token_header": .string("X-Forwarded-Access-Token")],
                "resources[0].upstream_token_header:"
            ),
            (
                ["upstream": .string("http://127.0.0.1:3000/mcp"), "upstream_token_header": .string("X-Forwarded-For")],
                "resources[0].upstream_token_header:"
            ),
            (
                ["upstream": .string("http://127.0.0.1:3000/mcp"), "upstream_token_header": .string("X-Real-IP")],
                "resources[0].upstream_token_header:"
            ),
            (
                ["upstream": .string("http://127.0.0.1:3000/mcp"), "upstream_token_header": .string("X-Auth-Request-Access-Token")],
                "resources[0].upstream_token_header:"
            ),
            (
                ["upstream": .string("http://127.0.0.1:3000/mcp"), "upstream_token_header": .string("Remote-User")],
                "resources[0].upstream_token_header:"
            ),
            (["upstream": .string("http://127.0.0.1:3000/mcp"), "upstream_token_header": .string("Origin")], "resources[0].upstream_token_header:"),
            (["upstream": .string("http://127.0.0.1:3000/mcp"), "upstream_token_header": .string("Cookie")], "resources[0].upstream_token_header:"),
            (
                ["upstream": .string("http://127.0.0.1:3000/mcp"), "upstream_token_header": .string("Upstream_Token")],
                "resources[0].upstream_token_header:"
            ),
        ])
    func gatewayRefused(_ gateway: [String: ConfigValue], _ key: String) {
        let problems = ConfigurationTests.problems(Self.tree(gateway: gateway))
        #expect(problems.contains { $0.hasPrefix(key) }, "\(problems)")
    }

    @Test(
        "gateway upstreams accepted: https anywhere, http on loopback, http elsewhere with insecure_http_upstream; Authorization may carry the token",
        arguments: [
            ["upstream": ConfigValue.string("https://mcp.internal/mcp")], ["upstream": .string("http://localhost:3000/mcp")],
            ["upstream": .string("http://127.0.0.2:3000")], ["upstream": .string("http://[::1]:3000/mcp")],
            ["upstream": .string("http://mcp.internal:3000/mcp"), "insecure_http_upstream": .string("true")],
            ["upstream": .string("https://mcp.internal/mcp"), "upstream_token_header": .string("Authorization")],
            ["upstream": .string("https://mcp.internal/mcp"), "upstream_token_header": .string("X-Upstream-Token")],
        ])
    func gatewayAccepted(_ gateway: [String: ConfigValue]) {
        // The tree may have problems elsewhere; none may be about the resource.
        guard case .failure(let problems) = ConfigurationTests.load(Self.tree(gateway: gateway)) else { return }
        #expect(!problems.problems.contains { $0.hasPrefix("resources[0]") }, "\(problems.problems)")
    }

    @Test("a gateway resource's path has no trailing slash (nothing below it could be reached)")
    func trailingSlash() {
        let tree = Self.tree([
            "resources": .list([
                .map([
                    "resource": .string("https://auth.example.com/mcp/"), "scopes": .list([.string("mcp")]),
                    "upstream": .string("http://127.0.0.1:3000/mcp"),
                ])
            ])
        ])
        #expect(ConfigurationTests.problems(tree).contains { $0.hasPrefix("resources[0].resource:") && $0.contains("must not end in") })
    }

    @Test(
        "a gateway resource path may not shadow the shim's own endpoints",
        arguments: [
            "https://auth.example.com", "https://auth.example.com/", "https://auth.example.com/token", "https://auth.example.com/jwks.json",
            "https://auth.example.com/.well-known/oauth-authorization-server", "https://auth.example.com/register/x",
        ])
    func reservedPaths(_ resource: String) {
        let tree = Self.tree([
            "resources": .list([
                .map([
                    "resource": .string(resource), "scopes": .list([.string("mcp")]),
                    "upstream": .string("http://127.0.0.1:3000/mcp"),
                ])
            ])
        ])
        #expect(ConfigurationTests.problems(tree).contains { $0.hasPrefix("resources[0].resource:") })
    }

    @Test("gateway mode needs issued tokens; so does introspection")
    func needsIssued() {
        let problems = ConfigurationTests.problems(
            Self.tree(
                [
                    "tokens": .map(["access": .string("upstream")]),
                    "introspection": .map(["clients": .list([.map(["id": .string("a"), "secret": .string("0123456789abcdef0")])])]),
                ],
                gateway: ["upstream": .string("http://127.0.0.1:3000/mcp")]))
        #expect(problems.contains { $0.hasPrefix("resources[0].upstream: gateway mode needs tokens.access: issued") })
        #expect(problems.contains { $0.hasPrefix("introspection.clients:") })
    }

    @Test(
        "github and google hand out unbound tokens in upstream mode: refused with the reason, unless acknowledged", arguments: ["github", "google"])
    func audienceProblem(_ preset: String) throws {
        let upstream: [String: ConfigValue] = ["preset": .string(preset)]
        let problems = ConfigurationTests.problems(Self.tree(["tokens": .map(["access": .string("upstream")])], upstream: upstream))
        let problem = try #require(problems.first { $0.hasPrefix("tokens.access:") })
        #expect(
            problem.contains("not bound to the MCP server") && problem.contains("tokens.access: issued")
                && problem.contains("tokens.insecure_upstream_audience_ack"))
        _ = try ConfigurationTests.load(
            Self.tree(
                [
                    "tokens": .map([
                        "access": .string("upstream"),
                        "insecure_upstream_audience_ack": .string("true"),
                    ])
                ], upstream: upstream)
        ).get()
        _ = try ConfigurationTests.load(Self.tree(upstream: upstream)).get()  // issued: bound to the resource
    }

    @Test("PEM blocks split from one text")
    func pemBlocks() {
        #expect(PEMBlocks.split(Self.p256Public + "\n\n" + Self.p256Private).count == 2)
        #expect(PEMBlocks.split("no pem here").isEmpty)
    }
}

@Suite("Configuration: presets with known endpoints")
struct PresetEndpointTests {
    // docs/configuration.md: upstream.issuer is "required unless both endpoints are given (or entra/github/google)".
    @Test("github and google need no upstream.issuer", arguments: ["github", "google"])
    func noIssuerNeeded(_ preset: String) throws {
        let tree = ConfigValue.map([
            "issuer": .string("https://auth.example.com"),
            "upstream": .map(["preset": .string(preset), "client_id": .string("c"), "client_secret": .string("s")]),
            "resources": .list([.map(["resource": .string("https://mcp.example.com/mcp"), "scopes": .list([.string("mcp")])])]),
            "redirects": .map(["clients": .list([.string("claude")])]),
            "tokens": .map(["access": .string("issued")]),
        ])
        _ = try ConfigurationTests.load(tree).get()
    }
}
