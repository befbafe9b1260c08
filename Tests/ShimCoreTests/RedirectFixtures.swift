import ShimCore

/// Policies and the callback list the redirect tests share.
///
/// The callbacks are copied by hand from the clients' observed callbacks
/// (docs/clients.md, "What each MCP client needs") rather than read from
/// `RedirectAllowlist.bundles`, so a test oracle never shares a bug with the code under test.
enum RedirectFixtures {
    static let operatorURI = "https://app.example.com/oauth/callback"
    static let allClients = ["claude", "chatgpt", "vscode", "cursor", "mcp-inspector"]

    /// Every bundle except `loopback`, plus one exact operator URI.
    static let allBundles = RedirectPolicy(allowlist: RedirectAllowlist(clients: allClients, allow: [operatorURI]))

    /// The most permissive bundle: any http URI on a loopback host.
    static let loopbackOnly = RedirectPolicy(allowlist: RedirectAllowlist(clients: ["loopback"], allow: []))

    static func policy(_ clients: String...) -> RedirectPolicy {
        RedirectPolicy(allowlist: RedirectAllowlist(clients: clients, allow: []))
    }

    /// The clients' callbacks (docs/clients.md), bundle by bundle.
    static let callbacks: [String: [String]] = [
        "claude": ["https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback"],
        "chatgpt": ["https://chatgpt.com/connector_platform_oauth_redirect"],
        "vscode": [
            "https://vscode.dev/redirect", "https://insiders.vscode.dev/redirect",
            "http://127.0.0.1/", "http://127.0.0.1:33418/",
        ],
        "cursor": [
            "cursor://anysphere.cursor-mcp/oauth/callback", "https://www.cursor.com/agents/mcp/oauth/callback",
            "http://localhost:8787/callback",
        ],
        "mcp-inspector": ["http://localhost:6274/oauth/callback", "http://localhost:6274/oauth/callback/debug"],
    ]

    /// Every exact URI `allBundles` lists.
    static let exactURIs: [String] = allClients.flatMap { callbacks[$0]! } + [operatorURI]

    static let chatgptConnectorPrefix = "https://chatgpt.com/connector/oauth/"

    static func isRefused(_ uri: String, by policy: RedirectPolicy) -> Bool {
        (try? policy.checkRegistration(uri)) == nil
    }
}
