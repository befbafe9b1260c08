/// Metric labels for gateway calls, bounded: a client chooses the method
/// and tool names it sends, and every distinct label value is a new time
/// series held in memory by the shim and by Prometheus.
public enum ToolCallLabels {
    /// The methods MCP defines for a client to send (2025-03-26 to 2026-07-28).
    public static let knownMethods: Set<String> = [
        "initialize", "server/discover", "subscriptions/listen", "tasks/update", "ping", "tools/list", "tools/call", "resources/list",
        "resources/templates/list", "resources/read",
        "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete", "logging/setLevel",
        "tasks/get", "tasks/list", "tasks/result", "tasks/cancel", "notifications/initialized", "notifications/cancelled",
        "notifications/progress", "notifications/roots/list_changed",
    ]

    /// `method`'s label: itself when MCP defines it, else `other`; `none`
    /// for a request without a message (a GET stream, a DELETE, an
    /// unreadable body), `response` for the client's answer to the server.
    public static func method(_ method: String?, isResponse: Bool = false) -> String {
        if isResponse { return "response" }
        guard let method else { return "none" }
        return knownMethods.contains(method) ? method : "other"
    }

    /// Whether a tool name may become a label value: the MCP tools
    /// "Tool Names" shape (1 to 128 of `A-Z a-z 0-9 _ - .`).
    public static func isLabelSafe(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            }
    }
}
