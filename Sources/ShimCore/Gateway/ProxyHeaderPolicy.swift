import Foundation

/// Which request and response headers the gateway forwards (RFC 9110 §7.6.1
/// and §7.8, MCP Streamable HTTP "Request Metadata").
public enum ProxyHeaderPolicy {
    /// RFC 9110 §7.6.1: connection-specific fields "MUST" be removed by an
    /// intermediary before forwarding; so must every field named in
    /// `Connection`. `Proxy-Connection` and `Keep-Alive` are the legacy ones.
    public static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
        "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Removed from the client's request as well: its credentials (the
    /// client's token never reaches the MCP server: MCP authorization "MUST
    /// NOT accept or transit any other tokens"), its `Host` (the upstream's
    /// own is set), and its cookies for the shim (the consent binding).
    public static let requestOnly: Set<String> = ["authorization", "host", "cookie", "content-length"]

    /// Lower-cased names listed in `Connection` (RFC 9110 §7.6.1 "Connection: a, b").
    public static func connectionTokens(_ values: [String]) -> Set<String> {
        Set(values.flatMap { $0.split(separator: ",") }.map { $0.trimmingWhitespace().lowercased() }.filter { !$0.isEmpty })
    }

    /// Whether a client request header is forwarded. `injected` are the
    /// names the gateway sets itself (identity headers, the upstream-token
    /// header): deleted first, then set, so a client cannot smuggle its own.
    public static func forwardsRequestHeader(_ name: String, connectionTokens: Set<String>, injected: Set<String>) -> Bool {
        let lower = name.lowercased()
        return !hopByHop.contains(lower) && !requestOnly.contains(lower) && !connectionTokens.contains(lower)
            && !injected.contains(lower)
    }

    /// Whether an MCP server's response header is returned to the client.
    /// `Content-Length` is kept (the body is passed through unchanged).
    public static func forwardsResponseHeader(_ name: String, connectionTokens: Set<String>) -> Bool {
        let lower = name.lowercased()
        return !hopByHop.contains(lower) && !connectionTokens.contains(lower)
    }
}

/// Which request paths the gateway forwards below a resource's path.
public enum GatewayPath {
    /// The part of `requestPath` below `resourcePath`, or nil when it must not
    /// be forwarded: a dot-segment (RFC 3986 §5.2.4), also percent-encoded, an
    /// empty segment or a backslash could make the MCP server resolve the
    /// path to somewhere outside the resource (`/mcp/../admin`), past the
    /// gateway's authorization for this resource only.
    public static func suffix(_ requestPath: String, below resourcePath: String) -> String? {
        guard requestPath.hasPrefix(resourcePath) else { return nil }
        let rest = requestPath.dropFirst(resourcePath.count)
        if rest.isEmpty { return "" }
        guard rest.hasPrefix("/") else { return nil }
        let lowered = rest.lowercased()
        guard !lowered.contains("\\"), !lowered.contains("%5c"), !lowered.contains("%2f") else { return nil }
        let segments = Array(lowered.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        for (index, segment) in segments.enumerated() {
            let decoded = segment.replacingOccurrences(of: "%2e", with: ".")
            if decoded == "." || decoded == ".." { return nil }
            if segment.isEmpty && index != segments.count - 1 { return nil }   // only a trailing slash may be empty
        }
        return String(rest)
    }
}
