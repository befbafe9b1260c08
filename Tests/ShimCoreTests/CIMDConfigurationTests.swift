import ShimCore
import Testing

/// The `cimd.*` keys and `upstream.display_name`: defaults, environment,
/// and check-config's problems (docs/configuration.md).
@Suite("Configuration: cimd.* and upstream.display_name")
struct CIMDConfigurationTests {
    typealias C = ConfigurationTests

    @Test("defaults: on, any public host, 5 s, cached 60 s to 1 h, no relaxation")
    func defaults() throws {
        let config = try C.load(C.tree()).get()
        #expect(config.cimd == CIMDConfiguration())
        #expect(config.cimd.enabled && config.cimd.allowedHosts.isEmpty && config.cimd.blockedHosts.isEmpty)
        #expect(config.cimd.fetchTimeoutSeconds == 5 && config.cimd.cacheMinSeconds == 60 && config.cimd.cacheMaxSeconds == 3600)
        #expect(config.cimd.insecurePrivateHosts.isEmpty && config.cimd.insecureCAPEM == nil && config.cimd.relaxationWarnings.isEmpty)
        #expect(config.cimd.nat64Prefixes.isEmpty && config.cimd.nat64.isEmpty)
        #expect(config.upstream.displayName == nil && config.upstream.identityProviderName == "idp.example")
    }

    @Test("file and environment set every key; the relaxations are announced")
    func everyKey() throws {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        let tree = C.tree(
            [
                "cimd": .map([
                    "enabled": .string("false"), "allowed_hosts": .list([.string("claude.ai"), .string("*.example.com")]),
                    "fetch_timeout": .string("3s"), "cache_min": .string("30s"), "cache_max": .string("2h"),
                    "insecure_private_hosts": .list([.string("localhost")]), "insecure_ca_file": .string("/ca.pem"),
                ])
            ], upstream: ["display_name": .string("Contoso SSO")])
        let config = try C.load(
            tree,
            env: [
                "DCR_SHIM_CIMD_BLOCKED_HOSTS": "evil.example,*.bad.example",
                "DCR_SHIM_CIMD_NAT64_PREFIXES": "2001:db8:64::/96, 64:ff9b:1:fffe::/96",
            ],
            files: ["/ca.pem": pem]
        ).get()
        #expect(!config.cimd.enabled && config.cimd.allowedHosts == ["claude.ai", "*.example.com"])
        #expect(config.cimd.blockedHosts == ["evil.example", "*.bad.example"])
        #expect(config.cimd.fetchTimeoutSeconds == 3 && config.cimd.cacheMinSeconds == 30 && config.cimd.cacheMaxSeconds == 7200)
        #expect(config.cimd.insecurePrivateHosts == ["localhost"] && config.cimd.insecureCAPEM == pem.trimmingWhitespaceForTest)
        #expect(config.cimd.relaxationWarnings.count == 2)
        #expect(config.cimd.relaxationWarnings[0].contains("localhost") && config.cimd.relaxationWarnings[1].contains("1 extra CA"))
        #expect(config.upstream.identityProviderName == "Contoso SSO")
        #expect(config.cimd.nat64 == ["2001:db8:64::/96", "64:ff9b:1:fffe::/96"].compactMap(NAT64Prefix.init) && config.cimd.nat64.count == 2)
        let policy = config.cimd.policy
        #expect(!policy.enabled && policy.allowedHosts.count == 2 && policy.blockedHosts.count == 2 && policy.trustsPrivateAddresses(of: "localhost"))
    }

    @Test("check-config names every bad cimd value at once")
    func problems() {
        let tree = C.tree([
            "cimd": .map([
                "enabled": .string("perhaps"), "allowed_hosts": .list([.string("*.com"), .string("ok.example")]),
                "blocked_hosts": .list([.string("https://x.example")]), "fetch_timeout": .string("90s"),
                "cache_min": .string("2h"), "cache_max": .string("1h"), "insecure_private_hosts": .list([.string("*.corp.example")]),
                "insecure_ca": .string("not a pem"), "surprise": .string("1"),
                "nat64_prefixes": .list([.string("2001:db8:64::/64"), .string("64:ff9b:1:fffe::/96"), .string("fe80::/96")]),
            ])
        ])
        let problems = C.problems(tree)
        for needle in [
            "cimd.enabled", "cimd.allowed_hosts[0]", "cimd.blocked_hosts[0]", "cimd.fetch_timeout", "cimd.cache_min",
            "cimd.insecure_private_hosts[0]", "cimd.insecure_ca", "cimd.surprise: unknown key",
            "cimd.nat64_prefixes[0]", "cimd.nat64_prefixes[2]",
        ] {
            #expect(problems.contains { $0.hasPrefix(needle) }, "\(needle) in \(problems)")
        }
        #expect(!problems.contains { $0.hasPrefix("cimd.allowed_hosts[1]") || $0.hasPrefix("cimd.nat64_prefixes[1]") })
    }

    @Test(
        "the consent page's identity provider name follows the preset, else the IdP's host",
        arguments: [
            ("entra", nil as String?, "Microsoft Entra ID"), ("okta", "https://acme.okta.com/oauth2/default", "Okta"),
            ("google", "https://accounts.google.com", "Google"),
            ("github", "https://github.com", "GitHub"), ("auth0", "https://acme.auth0.com", "Auth0"),
            ("keycloak", "https://sso.acme.example/realms/mcp", "sso.acme.example"), ("oidc", "http://127.0.0.1:9000/o", "127.0.0.1:9000"),
        ])
    func identityProviderName(_ preset: String, _ issuer: String?, _ expected: String) throws {
        var upstream: [String: ConfigValue] = ["preset": .string(preset), "tenant": .string("contoso.onmicrosoft.com")]
        upstream["issuer"] = issuer.map(ConfigValue.string) ?? .null
        if preset == "auth0" { upstream["audience"] = .string("https://api.example.com") }
        let resources: ConfigValue =
            preset == "entra"
            ? C.entraResources
            : .list([.map(["resource": .string("https://mcp.example.com/mcp"), "scopes": .list([.string("mcp")])])])
        // Upstream mode with github and google needs `tokens.insecure_upstream_audience_ack` (threat G8).
        let tokens: ConfigValue = .map(["insecure_upstream_audience_ack": .string("true")])
        let config = try C.load(C.tree(["resources": resources, "tokens": tokens], upstream: upstream)).get()
        #expect(config.upstream.identityProviderName == expected)
    }
}

extension String {
    var trimmingWhitespaceForTest: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
