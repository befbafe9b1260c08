import ShimCore
import Testing

/// Rule 1 (docs/security-rules.md): which redirect URIs a client may register.
/// RFC 7591 §2, RFC 6749 §3.1.2, RFC 8252 §7.1 and §7.3, OAuth 2.1 §2.3.1.
@Suite("Rule 1: redirect URIs at registration")
struct RedirectRegistrationTests {
    typealias F = RedirectFixtures

    @Test(
        "each bundle admits the callbacks its client uses, with only that bundle configured",
        arguments: F.allClients.flatMap { name in F.callbacks[name]!.map { (name, $0) } })
    func bundleAdmits(_ bundle: String, _ uri: String) throws {
        try F.policy(bundle).checkRegistration(uri)
        try F.allBundles.checkRegistration(uri)
    }

    @Test(
        "a bundle admits nothing of another client's: bundles do not leak into each other",
        arguments: F.allClients.flatMap { name in F.allClients.filter { $0 != name }.map { (name, $0) } })
    func bundlesAreIsolated(_ configured: String, _ other: String) {
        let policy = F.policy(configured)
        let mine = Set(F.callbacks[configured]!)
        for uri in F.callbacks[other]! where !mine.contains(uri) {
            #expect(F.isRefused(uri, by: policy), "\(configured) admitted \(other)'s \(uri)")
        }
    }

    @Test(
        "ChatGPT's per-connector callback is one segment of [A-Za-z0-9_-], at most 128 characters",
        arguments: [
            ("abc", true), ("abc_DEF-123", true), ("g-6812ab34cd", true), (String(repeating: "a", count: 128), true),
            ("", false), (String(repeating: "a", count: 129), false), ("a/b", false), ("a/", false), ("/a", false),
            ("..", false), (".", false), ("%2e%2e", false), ("a%2fb", false), ("a.b", false), ("a~b", false),
            ("a b", false), ("a?x=1", false), ("a?", false), ("a#", false), ("a#x", false), ("a@b", false),
            ("a;b", false), ("a*", false), ("*", false), ("a%00", false), ("a\\b", false), ("а", false),
        ])
    func chatgptConnector(_ segment: String, _ admitted: Bool) {
        let uri = F.chatgptConnectorPrefix + segment
        #expect(!F.isRefused(uri, by: F.policy("chatgpt")) == admitted, "\(uri.debugDescription)")
    }

    @Test(
        "near misses of each bundle's callbacks are refused (RFC 6749 §3.1.2.3 simple string comparison)",
        arguments: [
            ("claude", "https://claude.ai/api/mcp/auth_callback/../x"), ("claude", "https://claude.ai/api/mcp/auth_callback/"),
            ("claude", "https://claude.ai.evil.com/api/mcp/auth_callback"), ("claude", "https://claude.ai/api/mcp/auth_callback?"),
            ("claude", "https://claude.ai/api/mcp/auth_callback#"), ("claude", "https://claude.ai/api/mcp/AUTH_CALLBACK"),
            ("claude", "https://claude.ai/API/mcp/auth_callback"), ("claude", "https://claude.ai:443/api/mcp/auth_callback"),
            ("claude", "http://claude.ai/api/mcp/auth_callback"), ("claude", "https://www.claude.ai/api/mcp/auth_callback"),
            ("claude", "https://claude.ai/api/mcp/auth_callbacks"), ("claude", "https://claude.ai/api/mcp/auth_callback%20"),
            ("claude", "https://claude.ai/api/mcp/auth_callback/%2e%2e/x"), ("claude", "https://claude.ai/api/mcp//auth_callback"),
            ("claude", "https://claude.org/api/mcp/auth_callback"), ("claude", "https://anthropic.com/api/mcp/auth_callback"),
            ("chatgpt", "https://chatgpt.com/connector/oauth/a/b"), ("chatgpt", "https://chatgpt.com/connector/oauth/abc/"),
            ("chatgpt", "https://chatgpt.com/connector/oauth/abc?"), ("chatgpt", "https://chatgpt.com/connector/oauth/abc#"),
            ("chatgpt", "https://chatgpt.com/connector/oauth"), ("chatgpt", "https://chatgpt.com/connector/oauthabc"),
            ("chatgpt", "https://chatgpt.com/connector/OAuth/abc"), ("chatgpt", "https://chat.openai.com/connector/oauth/abc"),
            ("chatgpt", "https://chatgpt.com.evil.example/connector/oauth/abc"), ("chatgpt", "https://chatgpt.com:443/connector/oauth/abc"),
            ("chatgpt", "https://chatgpt.com/connector_platform_oauth_redirect/"), ("chatgpt", "https://chatgpt.com//connector/oauth/abc"),
            ("chatgpt", "https://chatgpt.com/connector_platform_oauth_redirect?next=/x"),
            ("chatgpt", "https://evil.example/connector/oauth/abc"), ("chatgpt", "https://chatgpt.com@evil.example/connector/oauth/abc"),
            ("vscode", "https://vscode.dev/redirect/"), ("vscode", "https://vscode.dev.evil.example/redirect"),
            ("vscode", "http://vscode.dev/redirect"), ("vscode", "https://insiders.vscode.dev/redirect?"),
            ("vscode", "http://127.0.0.1/x"), ("vscode", "http://127.0.0.1:33418/x"), ("vscode", "http://localhost:33418/"),
            ("vscode", "http://[::1]:33418/"), ("vscode", "https://127.0.0.1:33418/"), ("vscode", "http://127.0.0.2:33418/"),
            ("vscode", "https://evil.vscode.dev/redirect"), ("vscode", "https://vscode.dev/Redirect"),
            ("cursor", "cursor://anysphere.cursor-mcp/oauth/callback/"), ("cursor", "cursor://anysphere.cursor-mcp/oauth/callback?x"),
            ("cursor", "cursor://evil.example/oauth/callback"), ("cursor", "Cursor://anysphere.cursor-mcp/oauth/callback"),
            ("cursor", "CURSOR://anysphere.cursor-mcp/oauth/callback"), ("cursor", "cursor://anysphere.cursor-mcp/oauth/other"),
            ("cursor", "http://localhost:8787/callback/x"), ("cursor", "http://127.0.0.1:8787/callback"),
            ("cursor", "https://cursor.com/agents/mcp/oauth/callback"), ("cursor", "https://www.cursor.com/agents/mcp/oauth/callback/"),
            ("cursor", "cursor://anysphere.cursor-mcp/oauth/callback#"), ("cursor", "cursor-mcp://anysphere.cursor-mcp/oauth/callback"),
            ("mcp-inspector", "http://localhost:6274/oauth/callback/debug/x"), ("mcp-inspector", "http://localhost:6274/oauth/callbackx"),
            ("mcp-inspector", "http://127.0.0.1:6274/oauth/callback"), ("mcp-inspector", "https://localhost:6274/oauth/callback"),
            ("mcp-inspector", "http://localhost:6274/oauth/Callback"), ("mcp-inspector", "http://localhost:6274/oauth/callback?"),
            ("mcp-inspector", "http://localhost:6274/oauth/callback/"), ("mcp-inspector", "http://localhost.:6274/oauth/callback"),
        ])
    func nearMisses(_ bundle: String, _ uri: String) {
        let error = #expect(throws: OAuthError.self) { try F.policy(bundle).checkRegistration(uri) }
        #expect(error?.code == .invalidRedirectURI)
    }

    @Test(
        "the loopback bundle admits http on 127.0.0.0/8, [::1] and localhost, any port and path (RFC 8252 §7.3)",
        arguments: [
            "http://127.0.0.1:5000/callback", "http://127.0.0.1/callback", "http://127.0.0.1/", "http://127.0.0.1",
            "http://127.255.255.254:1/x", "http://127.0.0.2/cb", "http://127.10.0.1:65535/cb", "http://localhost:1234/cb",
            "http://localhost/cb?x=1", "http://[::1]:8080/x", "http://[::1]/", "http://127.0.0.1:33418/a/b/c",
        ])
    func loopbackBundleAdmits(_ uri: String) throws {
        try F.loopbackOnly.checkRegistration(uri)
    }

    @Test("an empty allowlist admits nothing, however well-formed", arguments: F.exactURIs + ["http://127.0.0.1:1/cb"])
    func emptyAllowlist(_ uri: String) {
        #expect(F.isRefused(uri, by: F.policy()))
    }

    @Test("an unknown bundle name admits nothing (configuration reports the name)")
    func unknownBundle() {
        #expect(F.isRefused("https://claude.ai/api/mcp/auth_callback", by: F.policy("claud")))
    }

    @Test(
        "shape: https, loopback http and private-use schemes with a dot pass checkShape (RFC 8252 §7.1)",
        arguments: [
            "https://app.example.com/cb", "https://app.example.com:8443/cb?x=1", "https://app.example.com", "https://[2001:db8::1]/cb",
            "http://127.0.0.1:9/cb", "http://localhost/cb", "http://[::1]:9/", "com.example.app://oauth/callback",
            "net.example.native-app://cb", "https://a-b.example/c%20d", "https://app.example.com/a..b/c.d",
        ])
    func shapeAdmits(_ uri: String) throws {
        try RedirectPolicy.checkShape(uri)
    }

    @Test("private-use schemes need a dot (RFC 8252 §7.1) unless the operator lists the exact URI; dangerous schemes never pass")
    func privateUse() throws {
        #expect(throws: OAuthError.self) { try RedirectPolicy.checkShape("exampleapp://oauth/callback") }
        try RedirectPolicy.checkShape("exampleapp://oauth/callback", operatorListed: true)
        for scheme in [
            "javascript", "JavaScript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss", "mailto", "tel",
            "chrome", "view-source",
        ] {
            #expect(throws: OAuthError.self, "\(scheme)") { try RedirectPolicy.checkShape("\(scheme)://x/y", operatorListed: true) }
        }
        let operatorListed = RedirectPolicy(allowlist: RedirectAllowlist(clients: [], allow: ["exampleapp://oauth/callback"]))
        try operatorListed.checkRegistration("exampleapp://oauth/callback")
        #expect(F.isRefused("exampleapp://oauth/other", by: operatorListed))
        #expect(F.isRefused("otherapp://oauth/callback", by: operatorListed))
    }

    @Test(
        "each refusal carries invalid_redirect_uri and says why (RFC 7591 §3.2.2)",
        arguments: [
            ("https://app.example.com/cb#x", "fragment"), ("https://u@app.example.com/cb", "userinfo"),
            ("https://app.example.com/*", "wildcard"), ("https://app.example.com/a/../cb", "dot-segments"),
            ("http://app.example.com/cb", "loopback"), ("exampleapp://cb", "private-use"), ("https:///cb", "host"),
            ("https://app.example.com/cb x", "printable ASCII"), ("https://app_example.com/cb", "host"),
        ])
    func refusalsSayWhy(_ uri: String, _ reason: String) {
        let error = #expect(throws: OAuthError.self) { try RedirectPolicy.checkShape(uri) }
        #expect(error?.code == .invalidRedirectURI)
        #expect(error?.description.contains(reason) == true, "\(error?.description ?? "")")
    }
}
