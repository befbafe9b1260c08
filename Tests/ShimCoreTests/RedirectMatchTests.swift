import ShimCore
import Testing

/// Rule 2 (docs/security-rules.md): the redirect_uri at /authorize must be one the client
/// registered, compared as strings (RFC 6749 §3.1.2.3, OAuth 2.1 §4.1.1 "exact
/// string matching"); the only variance is the port of an http loopback URI
/// (RFC 8252 §7.3: "The authorization server MUST allow any port to be
/// specified at the time of the request for loopback IP redirect URIs").
@Suite("Rule 2: redirect URI at /authorize")
struct RedirectMatchTests {
    static let claude = "https://claude.ai/api/mcp/auth_callback"
    static let loop = "http://127.0.0.1:1234/callback"

    @Test(
        "exact string match; any other difference is a mismatch",
        arguments: [
            (claude, [claude], true),
            (claude + "/", [claude], false), (claude + "?", [claude], false), (claude + "?x=1", [claude], false),
            (claude + "#", [claude], false), (claude + "#x", [claude], false), (claude + "%20", [claude], false),
            ("https://CLAUDE.ai/api/mcp/auth_callback", [claude], false), ("HTTPS://claude.ai/api/mcp/auth_callback", [claude], false),
            ("https://claude.ai/api/mcp/Auth_Callback", [claude], false), ("https://claude.ai:443/api/mcp/auth_callback", [claude], false),
            ("https://claude.ai/api/mcp/%61uth_callback", [claude], false), ("https://claude.ai/api/mcp/./auth_callback", [claude], false),
            ("https://claude.ai//api/mcp/auth_callback", [claude], false), ("http://claude.ai/api/mcp/auth_callback", [claude], false),
            ("https://claude.ai.evil.example/api/mcp/auth_callback", [claude], false),
            ("https://evil.example@claude.ai/api/mcp/auth_callback", [claude], false),
            (" " + claude, [claude], false), (claude + " ", [claude], false), ("", [claude], false), (claude, [], false),
            ("https://claude.com/api/mcp/auth_callback", [claude, "https://claude.com/api/mcp/auth_callback"], true),
            ("https://app.example.com/cb?a=1&b=2", ["https://app.example.com/cb?a=1&b=2"], true),
            ("https://app.example.com/cb?b=2&a=1", ["https://app.example.com/cb?a=1&b=2"], false),
            ("com.example.app://cb", ["com.example.app://cb"], true), ("com.example.app://cb", ["COM.example.app://cb"], false),
        ])
    func exact(_ requested: String, _ registered: [String], _ expected: Bool) {
        #expect((RedirectPolicy.matches(requested: requested, registered: registered) != nil) == expected, "\(requested)")
    }

    @Test(
        "loopback: any port, and only the port, of an http loopback URI varies (RFC 8252 §7.3)",
        arguments: [
            ("http://127.0.0.1:4321/callback", [loop], true), ("http://127.0.0.1/callback", [loop], true),
            ("http://127.0.0.1:65535/callback", [loop], true), ("http://127.0.0.1:1/callback", [loop], true),
            ("http://127.0.0.1:4321/callback", ["http://127.0.0.1/callback"], true),
            ("http://localhost:4321/cb", ["http://localhost:1/cb"], true), ("http://[::1]:4321/cb", ["http://[::1]:1/cb"], true),
            ("http://127.0.0.5:4321/cb", ["http://127.0.0.5/cb"], true),
            ("http://127.0.0.1:4321/cb?a=1", ["http://127.0.0.1/cb?a=1"], true),
            // path, query, host, scheme, userinfo and fragment do not vary
            ("http://127.0.0.1:4321/other", [loop], false), ("http://127.0.0.1:4321/callback/", [loop], false),
            ("http://127.0.0.1:4321/Callback", [loop], false), ("http://127.0.0.1:4321/callback?a=1", [loop], false),
            ("http://127.0.0.1:4321/callback?", [loop], false), ("http://127.0.0.1:4321/callback#x", [loop], false),
            ("http://127.0.0.1:4321/callback#", [loop], false), ("http://evil@127.0.0.1:4321/callback", [loop], false),
            ("http://127.0.0.1:4321@evil.example/callback", [loop], false), ("http://127.0.0.1:4321/cb?a=2", ["http://127.0.0.1/cb?a=1"], false),
            ("http://127.0.0.1:4321/%2e%2e/callback", [loop], false), ("http://127.0.0.1:4321/x/../callback", [loop], false),
            // localhost, 127.0.0.1, other 127/8 addresses and [::1] are different hosts
            ("http://localhost:4321/callback", [loop], false), ("http://127.0.0.2:4321/callback", [loop], false),
            ("http://[::1]:4321/callback", [loop], false), ("http://127.0.0.1:4321/cb", ["http://localhost:1/cb"], false),
            ("http://127.1:4321/callback", [loop], false), ("http://2130706433:4321/callback", [loop], false),
            ("http://[::ffff:127.0.0.1]:4321/callback", [loop], false), ("http://localhost.:4321/cb", ["http://localhost:1/cb"], false),
            // only http loopback: not https, not other hosts, not private-use schemes
            ("https://127.0.0.1:4321/callback", ["https://127.0.0.1:1234/callback"], false),
            ("https://localhost:4321/cb", ["https://localhost/cb"], false),
            ("https://app.example.com:4321/cb", ["https://app.example.com/cb"], false),
            ("https://app.example.com/cb", ["https://app.example.com:443/cb"], false),
            ("http://127.0.0.1:4321/callback", ["https://127.0.0.1:1234/callback"], false),
            ("https://127.0.0.1:4321/callback", [loop], false),
            ("com.example.app://cb:2", ["com.example.app://cb:1"], false),
            // a malformed port is not a port
            ("http://127.0.0.1:65536/callback", [loop], false), ("http://127.0.0.1:-1/callback", [loop], false),
            ("http://127.0.0.1:/callback", [loop], false), ("http://127.0.0.1:12a/callback", [loop], false),
            ("http://127.0.0.1:1234:1/callback", [loop], false), ("http://127.0.0.1:+80/callback", [loop], false),
        ])
    func loopbackPort(_ requested: String, _ registered: [String], _ expected: Bool) {
        #expect((RedirectPolicy.matches(requested: requested, registered: registered) != nil) == expected, "\(requested)")
    }

    /// RFC 3986 §6.2.1 simple string comparison is over characters of ASCII;
    /// Swift's `String ==` is Unicode canonical equivalence, under which
    /// U+212A KELVIN SIGN equals "K", U+037E GREEK QUESTION MARK equals ";"
    /// and U+1FEF GREEK VARIA equals "`". A requested URI spelled with them is
    /// a different URI (a browser sends `/%E2%84%AA`), so it must not match.
    @Test(
        "canonically equivalent non-ASCII spellings are not the registered URI (RFC 3986 §6.2.1)",
        arguments: [
            ("https://chatgpt.com/connector/oauth/\u{212A}", "https://chatgpt.com/connector/oauth/K"),
            ("http://127.0.0.1:1234/cb\u{037E}x", "http://127.0.0.1:1234/cb;x"),
            ("http://127.0.0.1:1234/cb\u{1FEF}", "http://127.0.0.1:1234/cb`"),
            ("https://app.example.com/\u{212A}", "https://app.example.com/K"),
        ])
    func canonicalEquivalence(_ requested: String, _ registered: String) {
        #expect(RedirectPolicy.matches(requested: requested, registered: [registered]) == nil, "\(requested.unicodeScalars.map(\.value))")
    }

    @Test("a match answers with a registered URI byte for byte, or the requested loopback port variant of one")
    func answer() {
        #expect(
            RedirectPolicy.matches(requested: Self.claude, registered: ["https://x.example/cb", Self.claude])?.utf8
                .elementsEqual(Self.claude.utf8) == true)
        let port = RedirectPolicy.matches(requested: "http://127.0.0.1:4321/callback", registered: ["https://x.example/cb", Self.loop])
        #expect(port == Self.loop || port == "http://127.0.0.1:4321/callback")
    }
}
