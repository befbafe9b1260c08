import PropertyBased
import ShimCore
import Testing

/// Property: whatever URI is built from allowed-looking pieces, the
/// allowlist admits it only if it is literally an allowed URI (or a
/// loopback port variant of one, or a ChatGPT connector id).
@Suite("Rule 1: allowlist property")
struct RedirectPropertyTests {
    static let schemes = ["https", "http", "HTTPS", "cursor", "javascript", "ftp", "https:", ""]
    static let hosts = ["claude.ai", "claude.com", "chatgpt.com", "vscode.dev", "app.example.com", "claude.ai.evil.example",
                        "evil.example", "127.0.0.1", "localhost", "[::1]", "claude.ai@evil.example", "claude.ai:443",
                        "anysphere.cursor-mcp", "www.cursor.com", "localhost:6274", "127.0.0.1:33418", "CLAUDE.AI", "claude.ai."]
    static let paths = ["/api/mcp/auth_callback", "/connector_platform_oauth_redirect", "/redirect", "/oauth/callback",
                        "/connector/oauth/abc", "/connector/oauth/a/b", "/", "", "/api/mcp/auth_callback/..",
                        "/api/mcp/%2e%2e/auth_callback", "/agents/mcp/oauth/callback", "//api/mcp/auth_callback", "/oauth/callback/debug"]
    static let suffixes = ["", "", "", "?", "?x=1", "#", "#x", "/", "\\", " ", "%00", "*"]

    static let allowlist = RedirectAllowlist(clients: ["claude", "chatgpt", "vscode", "cursor", "mcp-inspector"],
                                             allow: ["https://app.example.com/oauth/callback"])
    static let exact: Set<String> = Set(allowlist.entries.compactMap { if case .exact(let u) = $0 { u } else { nil } })

    static func isLegitimate(_ uri: String) -> Bool {
        if exact.contains(uri) { return true }
        if let parsed = RedirectURI(uri), parsed.scheme == "http", parsed.isLoopback, !parsed.hasUserinfo, !parsed.hasFragment {
            return exact.contains { RedirectURI($0).map { $0.scheme == "http" && $0.isLoopback && $0.withoutPort == parsed.withoutPort } ?? false }
        }
        let prefix = "https://chatgpt.com/connector/oauth/"
        return uri.hasPrefix(prefix) && uri.dropFirst(prefix.count).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
            && uri.count > prefix.count
    }

    @Test("no URI outside the allowlist is ever admitted")
    func neverOutside() async {
        let gen = Gen.int(in: 0...1000).array(of: 4...4)
        await propertyCheck(count: 3000, input: gen) { picks in
            let uri = Self.schemes[picks[0] % Self.schemes.count] + "://" + Self.hosts[picks[1] % Self.hosts.count]
                + Self.paths[picks[2] % Self.paths.count] + Self.suffixes[picks[3] % Self.suffixes.count]
            let policy = RedirectPolicy(allowlist: Self.allowlist)
            let admitted = (try? policy.checkRegistration(uri)) != nil
            #expect(!admitted || Self.isLegitimate(uri), "admitted \(uri.debugDescription)")
        }
        print("redirect property cases checked: 3000")
    }
}
