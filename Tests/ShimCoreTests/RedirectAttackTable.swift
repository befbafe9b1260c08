import Foundation
import ShimCore
import Testing

/// Open-redirect and parser-confusion attempts, written for this project.
/// Every one must be refused at registration (rule 1, RFC 6749 §3.1.2,
/// RFC 8252 §7–8, RFC 9700 §4.1) by a policy that allows every bundle and
/// one exact URI. Shape-only attacks, which must fail without any help from
/// the allowlist, are in RedirectShapeAttackTable.swift.
enum RedirectAttacks {
    /// Handwritten cases, by technique.
    static let handwritten: [String] = [
        // userinfo makes the host look like an allowed one
        "https://claude.ai@evil.example/api/mcp/auth_callback",
        "https://claude.ai:443@evil.example/api/mcp/auth_callback",
        "https://evil.example@claude.ai/api/mcp/auth_callback",
        "https://app.example.com%40evil.example/oauth/callback",
        "https://user:pass@app.example.com/oauth/callback",
        // backslashes, which browsers treat as slashes
        "https://claude.ai\\@evil.example/api/mcp/auth_callback",
        "https://evil.example\\claude.ai/api/mcp/auth_callback",
        "https://claude.ai/api\\mcp/auth_callback",
        "https://app.example.com\\.evil.example/oauth/callback",
        // look-alike and suffix hosts
        "https://claude.ai.evil.example/api/mcp/auth_callback",
        "https://claude.ai-evil.example/api/mcp/auth_callback",
        "https://evilclaude.ai/api/mcp/auth_callback",
        "https://claude.aI/api/mcp/auth_callback",
        "https://CLAUDE.AI/api/mcp/auth_callback",
        "https://claude.ai./api/mcp/auth_callback",
        "https://xn--claude-2ya.ai/api/mcp/auth_callback",
        "https://сlaude.ai/api/mcp/auth_callback",  // Cyrillic с
        "https://clаude.ai/api/mcp/auth_callback",  // Cyrillic а
        "https://claude.ａi/api/mcp/auth_callback",  // fullwidth a
        "https://chatgpt.com.evil.example/connector_platform_oauth_redirect",
        "https://app.example.com.evil.example/oauth/callback",
        "https://app-example.com/oauth/callback",
        "https://www.app.example.com/oauth/callback",
        // path tricks
        "https://claude.ai/api/mcp/auth_callback/../../evil",
        "https://claude.ai/api/mcp/auth_callback/%2e%2e/evil",
        "https://claude.ai/api/mcp/auth_callback/%2E%2E/evil",
        "https://claude.ai/api/mcp/%2e/auth_callback",
        "https://claude.ai/api/mcp/auth_callback%2f..%2fevil",
        "https://claude.ai/api/mcp/auth_callback/",
        "https://claude.ai/api/mcp/auth_callback/x",
        "https://claude.ai/api/mcp/Auth_Callback",
        "https://claude.ai//api/mcp/auth_callback",
        "https://claude.ai/api/mcp/auth_callback;x",
        "https://claude.ai/api/mcp/auth_callback%00",
        "https://claude.ai/api/mcp/auth_callback%0d%0aLocation:%20https://evil.example",
        "https://app.example.com/oauth/callback/..",
        "https://app.example.com/oauth/./callback",
        // query and fragment
        "https://claude.ai/api/mcp/auth_callback?",
        "https://claude.ai/api/mcp/auth_callback?next=https://evil.example",
        "https://claude.ai/api/mcp/auth_callback#",
        "https://claude.ai/api/mcp/auth_callback#@evil.example",
        "https://app.example.com/oauth/callback#frag",
        // wildcards
        "https://*.claude.ai/api/mcp/auth_callback",
        "https://claude.ai/api/mcp/*",
        "https://chatgpt.com/connector/oauth/*",
        // chatgpt connector id must be exactly one safe segment
        "https://chatgpt.com/connector/oauth/",
        "https://chatgpt.com/connector/oauth/a/b",
        "https://chatgpt.com/connector/oauth/a?x=1",
        "https://chatgpt.com/connector/oauth/a#x",
        "https://chatgpt.com/connector/oauth/..",
        "https://chatgpt.com/connector/oauth/%2e%2e",
        "https://chatgpt.com/connector/oauth/a%2fb",
        "https://chatgpt.com/connector/oauth/a.b",
        "https://chatgpt.com/connector/oauth/a@b",
        "https://chatgpt.com/connector/oauth/" + String(repeating: "a", count: 129),
        "https://chatgpt.com:444/connector/oauth/abc",
        "http://chatgpt.com/connector/oauth/abc",
        // schemes
        "javascript:alert(1)",
        "javascript://claude.ai/%0aalert(1)",
        "JavaScript://claude.ai/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data://claude.ai/api/mcp/auth_callback",
        "file:///etc/passwd",
        "file://claude.ai/api/mcp/auth_callback",
        "vbscript://claude.ai/x",
        "about://blank",
        "blob://claude.ai/x",
        "ftp://claude.ai/api/mcp/auth_callback",
        "ws://127.0.0.1/callback",
        "wss://claude.ai/api/mcp/auth_callback",
        "cursor:anysphere.cursor-mcp/oauth/callback",
        "cursor://evil.example/oauth/callback",
        "cursor://anysphere.cursor-mcp/oauth/callback/../x",
        "myapp://callback",
        "//claude.ai/api/mcp/auth_callback",
        "claude.ai/api/mcp/auth_callback",
        "/api/mcp/auth_callback",
        "https:/claude.ai/api/mcp/auth_callback",
        "https:claude.ai/api/mcp/auth_callback",
        "https:///claude.ai/api/mcp/auth_callback",
        // http off loopback, and loopback look-alikes
        "http://claude.ai/api/mcp/auth_callback",
        "http://app.example.com/oauth/callback",
        "http://localhost.evil.example:6274/oauth/callback",
        "http://localhost.:6274/oauth/callback",
        "http://127.0.0.1.nip.io/callback",
        "http://127.1:6274/oauth/callback",
        "http://2130706433/callback",
        "http://0x7f000001/callback",
        "http://0177.0.0.1/callback",
        "http://127.000.000.001/callback",
        "http://[::ffff:127.0.0.1]/callback",
        "http://[0:0:0:0:0:0:0:1]/callback",
        "http://0.0.0.0/callback",
        "http://128.0.0.1/callback",
        "http://10.0.0.1/callback",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost@evil.example/callback",
        "http://evil.example#@localhost:6274/oauth/callback",
        // ports
        "https://claude.ai:65536/api/mcp/auth_callback",
        "https://claude.ai:-1/api/mcp/auth_callback",
        "https://claude.ai:443x/api/mcp/auth_callback",
        "https://claude.ai:/api/mcp/auth_callback",
        "https://claude.ai:8443/api/mcp/auth_callback",
        "https://vscode.dev:444/redirect",
        // whitespace and control characters
        " https://claude.ai/api/mcp/auth_callback",
        "https://claude.ai/api/mcp/auth_callback ",
        "https://claude.ai/api/mcp/auth_callback\t",
        "https://claude.ai/api/mcp/auth_callback\n",
        "https://claude.ai/api/mcp/auth_callback\r\nX: y",
        "https://claude.ai/api/mcp/auth_\u{0}callback",
        "https://claude.ai/api/mcp/auth\u{7f}callback",
        "https://claude.ai/api/mcp/auth_callback\u{200B}",
        "https://claude.ai\u{2028}/api/mcp/auth_callback",
        "https://claude .ai/api/mcp/auth_callback",
        // empty and degenerate
        "", " ", "https://", "https:///", "http://", "http:///callback", "://claude.ai/x", "https://[/x", "https://[]/x",
        "https://[::1/x",
    ]

    /// Generated cases: each allowed URI mutated in ways that must never match.
    static var generated: [String] {
        let allowed = [
            "https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback",
            "https://chatgpt.com/connector_platform_oauth_redirect", "https://vscode.dev/redirect",
            "https://insiders.vscode.dev/redirect", "https://www.cursor.com/agents/mcp/oauth/callback",
            "https://app.example.com/oauth/callback", "cursor://anysphere.cursor-mcp/oauth/callback",
        ]
        let mutations: [(String) -> String] = [
            { $0 + "/" }, { $0 + "x" }, { $0 + "?" }, { $0 + "#" }, { $0 + "/.." }, { $0 + "%2f..%2f" },
            { $0.replacingFirst("://", with: "://evil.example@") },
            { $0.replacingFirst("://", with: "://evil.example\\") },
            { $0.replacingFirst(".", with: "..") },
            { $0.replacingFirst("/", with: "\\") },
            { $0.uppercased() },
            { $0.replacingFirst("https://", with: "http://") },
            { $0.replacingHost { $0 + ".evil.example" } },
            { $0.replacingHost { "evil." + $0 } },
            { $0.replacingHost { $0 + ":1" } },
            { $0.replacingHost { $0 + "." } },
            { $0.replacingHost { String($0.dropLast()) } },
            { $0.replacingHost { $0 + "%2e" } },
            { $0.replacingLast("/", with: "/%2e%2e/") },
            { $0.replacingLast("/", with: "//") },
            { $0.replacingLast("/", with: "/./") },
            { $0.replacingLast("a", with: "%61") },
            { $0 + "#@evil.example" },
            { $0 + "\u{0}" },
            { " " + $0 },
            { $0.replacingFirst("c", with: "с") },  // Cyrillic
            { $0.replacingFirst("o", with: "о") },  // Cyrillic
            { $0.replacingFirst("a", with: "ɑ") },
            { $0 + "*" },
            { $0.replacingHost { "*." + $0 } },
        ]
        return allowed.flatMap { uri in mutations.map { $0(uri) } }.filter { !allowed.contains($0) }
    }

    static var all: [String] { handwritten + generated }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self + replacement }
        return replacingCharacters(in: range, with: replacement)
    }

    func replacingLast(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target, options: .backwards) else { return self + replacement }
        return replacingCharacters(in: range, with: replacement)
    }

    /// Applies `change` to the authority (between "://" and the next "/").
    func replacingHost(_ change: (String) -> String) -> String {
        guard let start = range(of: "://")?.upperBound else { return self }
        let end = self[start...].firstIndex(of: "/") ?? endIndex
        return String(self[..<start]) + change(String(self[start..<end])) + String(self[end...])
    }
}
