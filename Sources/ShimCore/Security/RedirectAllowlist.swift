/// The operator's redirect allowlist (rule 1): named bundles of the callbacks
/// known MCP clients use (`redirects.clients`) plus exact URIs
/// (`redirects.allow`).
///
/// Matching is exact string equality, with two documented widenings:
/// a loopback `http` entry matches any port (RFC 8252 §7.3), and the
/// `loopback` bundle admits any http URI on a loopback host (Claude Code and
/// SDK clients pick a random port and path). ChatGPT's per-connector callback
/// `https://chatgpt.com/connector/oauth/<id>` is admitted as one path segment
/// of `[A-Za-z0-9_-]`.
public struct RedirectAllowlist: Sendable {
    public enum Entry: Sendable, Equatable {
        case exact(String)
        case anyLoopback
        case singleSegment(prefix: String)
    }

    public let entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Builds the list from configuration; unknown bundle names are reported
    /// by configuration validation, not here.
    public init(clients: [String], allow: [String]) {
        var entries = clients.flatMap { Self.bundles[$0] ?? [] }
        entries += allow.map(Entry.exact)
        self.entries = entries
    }

    /// Callbacks that popular MCP clients register (docs/clients.md lists them).
    public static let bundles: [String: [Entry]] = [
        "claude": [
            .exact("https://claude.ai/api/mcp/auth_callback"),
            .exact("https://claude.com/api/mcp/auth_callback"),
        ],
        "chatgpt": [
            .exact("https://chatgpt.com/connector_platform_oauth_redirect"),
            .singleSegment(prefix: "https://chatgpt.com/connector/oauth/"),
        ],
        "vscode": [
            .exact("https://vscode.dev/redirect"),
            .exact("https://insiders.vscode.dev/redirect"),
            .exact("http://127.0.0.1/"),
            .exact("http://127.0.0.1:33418/"),
        ],
        "cursor": [
            .exact("cursor://anysphere.cursor-mcp/oauth/callback"),
            .exact("https://www.cursor.com/agents/mcp/oauth/callback"),
            .exact("http://localhost:8787/callback"),
        ],
        "mcp-inspector": [
            .exact("http://localhost:6274/oauth/callback"),
            .exact("http://localhost:6274/oauth/callback/debug"),
        ],
        "loopback": [.anyLoopback],
    ]

    /// True when `raw` is written out as an exact entry.
    public func listsExactly(_ raw: String) -> Bool {
        entries.contains { if case .exact(let allowed) = $0 { allowed.utf8.elementsEqual(raw.utf8) } else { false } }
    }

    /// True when `raw` (already shape-checked by rule 1) is admitted.
    public func permits(_ raw: String) -> Bool {
        guard let uri = RedirectURI(raw) else { return false }
        return entries.contains { entry in
            switch entry {
            case .exact(let allowed):
                if allowed.utf8.elementsEqual(raw.utf8) { return true }
                // A loopback entry admits any port (RFC 8252 §7.3).
                guard uri.scheme == "http", uri.isLoopback, let known = RedirectURI(allowed),
                    known.scheme == "http", known.isLoopback
                else { return false }
                return known.withoutPort == uri.withoutPort
            case .anyLoopback:
                return uri.scheme == "http" && uri.isLoopback
            case .singleSegment(let prefix):
                guard raw.hasPrefix(prefix) else { return false }
                let segment = raw.dropFirst(prefix.count)
                return !segment.isEmpty && segment.count <= 128
                    && segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            }
        }
    }
}
