import ShimCore
import Testing

@Suite("Rule 1: redirect URIs at registration")
struct RedirectRegistrationTests {
    static let policy = RedirectAttacks.policy

    @Test("each bundle admits the callbacks its client uses (PEERS.md)", arguments: [
        "https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback",
        "https://chatgpt.com/connector_platform_oauth_redirect", "https://chatgpt.com/connector/oauth/abc_DEF-123",
        "https://vscode.dev/redirect", "https://insiders.vscode.dev/redirect",
        "http://127.0.0.1/", "http://127.0.0.1:33418/", "http://127.0.0.1:40000/",
        "cursor://anysphere.cursor-mcp/oauth/callback", "https://www.cursor.com/agents/mcp/oauth/callback",
        "http://localhost:8787/callback", "http://localhost:9999/callback",
        "http://localhost:6274/oauth/callback", "http://localhost:6274/oauth/callback/debug",
        "https://app.example.com/oauth/callback",
    ])
    func bundlesAdmit(_ uri: String) throws {
        try Self.policy.checkRegistration(uri)
    }

    @Test("the loopback bundle admits any http loopback URI and nothing else (RFC 8252 §7.3)", arguments: [
        ("http://127.0.0.1:5000/callback", true), ("http://localhost:1234/cb", true), ("http://[::1]:8080/x", true),
        ("http://127.0.0.2/cb", true), ("https://127.0.0.1/cb", false), ("http://localhost.evil/cb", false),
        ("http://127.0.0.256/cb", false), ("http://127.0.0/cb", false), ("http://01.0.0.127/cb", false),
    ])
    func loopbackBundle(_ uri: String, _ allowed: Bool) {
        let policy = RedirectPolicy(allowlist: RedirectAllowlist(clients: ["loopback"], allow: []))
        #expect(((try? policy.checkRegistration(uri)) != nil) == allowed, "\(uri)")
    }

    @Test("an empty allowlist admits nothing, however well-formed")
    func emptyAllowlist() {
        let policy = RedirectPolicy(allowlist: RedirectAllowlist(clients: [], allow: []))
        #expect(throws: OAuthError.self) { try policy.checkRegistration("https://claude.ai/api/mcp/auth_callback") }
    }

    @Test("shape rules apply to the operator's own allowlist entries too", arguments: [
        "http://app.example.com/cb", "https://app.example.com/cb#x", "https://u@app.example.com/cb",
        "https://app.example.com/a/../cb", "javascript://x/y", "data://x/y", "myapp://cb#x",
    ])
    func shapeRefuses(_ uri: String) {
        #expect(throws: OAuthError.self) { try RedirectPolicy.checkShape(uri, operatorListed: true) }
    }

    @Test("private-use schemes need a dot (RFC 8252 §7.1) unless the operator lists the exact URI")
    func privateUse() throws {
        try RedirectPolicy.checkShape("com.example.app://oauth/callback")
        #expect(throws: OAuthError.self) { try RedirectPolicy.checkShape("exampleapp://oauth/callback") }
        try RedirectPolicy.checkShape("exampleapp://oauth/callback", operatorListed: true)
        #expect(throws: OAuthError.self) { try RedirectPolicy.checkShape("javascript://x/%0a", operatorListed: true) }
        let cursor = RedirectPolicy(allowlist: RedirectAllowlist(clients: ["cursor"], allow: []))
        try cursor.checkRegistration("cursor://anysphere.cursor-mcp/oauth/callback")
        #expect(throws: OAuthError.self) { try cursor.checkRegistration("cursor://anysphere.cursor-mcp/oauth/other") }
    }
}

@Suite("Rule 2: redirect URI at /authorize")
struct RedirectMatchTests {
    @Test("exact string match, with only the port of an http loopback URI varying (RFC 6749 §3.1.2.3, RFC 8252 §7.3)", arguments: [
        ("https://claude.ai/api/mcp/auth_callback", ["https://claude.ai/api/mcp/auth_callback"], true),
        ("https://claude.ai/api/mcp/auth_callback/", ["https://claude.ai/api/mcp/auth_callback"], false),
        ("https://claude.ai/api/mcp/auth_callback?x=1", ["https://claude.ai/api/mcp/auth_callback"], false),
        ("https://CLAUDE.ai/api/mcp/auth_callback", ["https://claude.ai/api/mcp/auth_callback"], false),
        ("https://claude.ai:443/api/mcp/auth_callback", ["https://claude.ai/api/mcp/auth_callback"], false),
        ("http://127.0.0.1:4321/callback", ["http://127.0.0.1:1234/callback"], true),
        ("http://127.0.0.1/callback", ["http://127.0.0.1:1234/callback"], true),
        ("http://127.0.0.1:4321/other", ["http://127.0.0.1:1234/callback"], false),
        ("http://localhost:4321/callback", ["http://127.0.0.1:1234/callback"], false),
        ("http://[::1]:4321/callback", ["http://[::1]:1234/callback"], true),
        ("https://127.0.0.1:4321/callback", ["https://127.0.0.1:1234/callback"], false),
        ("http://127.0.0.1:4321/callback?a=1", ["http://127.0.0.1:1234/callback"], false),
        ("http://127.0.0.1:4321/callback#x", ["http://127.0.0.1:1234/callback"], false),
        ("http://evil@127.0.0.1:4321/callback", ["http://127.0.0.1:1234/callback"], false),
    ])
    func matches(_ requested: String, _ registered: [String], _ expected: Bool) {
        #expect((RedirectPolicy.matches(requested: requested, registered: registered) != nil) == expected)
    }
}
