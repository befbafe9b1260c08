import ShimCore
import Testing

/// Rule 1 and 2 for RFC 8252 §7.1 redirects written without `//`
/// (`com.example.app:/oauth2redirect/example-provider`): accepted when the
/// operator's allowlist names them and their scheme is a reverse domain
/// name; every neighbouring spelling is refused.
@Suite("Rule 1: RFC 8252 §7.1 private-use redirects without //")
struct RedirectNativeFormTests {
    static let listed = ["com.example.app:/oauth2redirect/example-provider", "com.example.app:/", "com.example.app:/cb?x=1"]
    static let policy = RedirectPolicy(allowlist: RedirectAllowlist(clients: ["loopback"], allow: listed + ["exampleapp:/cb"]))

    @Test("RFC 8252 §7.1: listed path-absolute private-use redirects are accepted", arguments: listed)
    func accepted(_ uri: String) throws {
        try Self.policy.checkRegistration(uri)
        let parsed = try #require(RedirectURI(uri))
        #expect(!parsed.hasAuthority && parsed.host.isEmpty && parsed.port == nil && parsed.path.hasPrefix("/"))
    }

    @Test("the same shape, not listed, is refused by the allowlist")
    func unlisted() {
        #expect(RedirectFixtures.isRefused("com.example.app:/other", by: Self.policy))
        #expect(RedirectFixtures.isRefused("com.example.app:/oauth2redirect/example-provider", by: RedirectFixtures.loopbackOnly))
    }

    @Test(
        "attack table: spellings around the §7.1 form are refused even when listed",
        arguments: [
            "exampleapp:/cb",  // no dot: not a reverse domain name
            "com.example.app:oauth2redirect",  // rootless path
            "com.example.app:", "com.example.app:?x", "com.example.app:#x",
            "com.example.app:/oauth2redirect#frag", "com.example.app:/../cb", "com.example.app:/x/..",
            "com.example.app:/%2e%2e/cb", "com.example.app:/%2E/cb", "com.example.app:/a%2f..%2fb",
            "com.example.app:/\\evil.example", "com.example.app:/cb\\", "com.example.app:/c b", "com.example.app:/cb\t",
            "com.example.app:/*", "com.example.app:/cb*", "com.example.app:/cé",
            "javascript:/alert(1)", "data:/text/html,x", "file:/etc/passwd", "vbscript:/x", "blob:/x", "about:/blank",
            "http:/127.0.0.1/cb", "https:/claude.ai/api/mcp/auth_callback", "HTTP:/127.0.0.1/cb", "Https:/x.example/cb",
            "com.example.app:///cb", "com.example.app://", ":/cb", "1com.example.app:/cb", "-com.example.app:/cb",
        ])
    func refused(_ uri: String) {
        let listing = RedirectPolicy(allowlist: RedirectAllowlist(clients: [], allow: [uri]))
        #expect(RedirectFixtures.isRefused(uri, by: listing), "\(uri)")
        #expect(throws: OAuthError.self, "\(uri)") { try RedirectPolicy.checkShape(uri, operatorListed: true) }
    }

    @Test(
        "rule 2: exact bytes only; no port or loopback variance for the §7.1 form",
        arguments: [
            ("com.example.app:/oauth2redirect", "com.example.app:/oauth2redirect", true),
            ("com.example.app:/oauth2redirect/", "com.example.app:/oauth2redirect", false),
            ("COM.example.app:/oauth2redirect", "com.example.app:/oauth2redirect", false),
            ("com.example.app://oauth2redirect", "com.example.app:/oauth2redirect", false),
            ("com.example.app:/oauth2redirect?x=1", "com.example.app:/oauth2redirect", false),
            ("com.example.app:/oauth2redirect", "com.example.app://oauth2redirect", false),
        ])
    func exact(_ requested: String, _ registered: String, _ expected: Bool) {
        #expect((RedirectPolicy.matches(requested: requested, registered: [registered]) != nil) == expected, "\(requested)")
    }
}
