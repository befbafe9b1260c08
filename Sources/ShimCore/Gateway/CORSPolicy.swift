/// CORS (WHATWG Fetch, "CORS protocol") for browser MCP clients calling the
/// gateway from an allowed origin (`resources[i].allowed_origins`, the same
/// list the Origin check of MCP Streamable HTTP uses).
///
/// A preflight carries no credentials, so it is answered before the token
/// check; an origin that is not allowed gets 403 and no CORS headers (the
/// browser then refuses the real request). Every answer to an allowed
/// origin, the gateway's own 401 included, names the origin and exposes the
/// challenge, the session id and `Retry-After`, so a browser client can read
/// them (Fetch: only safelisted response headers are readable otherwise).
public enum CORSPolicy {
    /// The methods of MCP Streamable HTTP (POST messages, GET streams,
    /// DELETE sessions) and the preflight's own.
    public static let allowedMethods = "GET, POST, DELETE, OPTIONS"

    /// Request headers a browser MCP client sends: its token, the JSON
    /// body's type and the MCP transport's headers.
    public static let allowedHeaders = [
        "Authorization", "Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-ID",
        "Mcp-Method", "Mcp-Name",
    ]

    /// Response headers a browser client may read beyond the safelisted ones.
    public static let exposedHeaders = "WWW-Authenticate, Mcp-Session-Id, Retry-After"

    /// How long a browser may reuse a preflight answer (Chromium caps it at 7200).
    public static let maxAgeSeconds = 7200

    /// Fetch "CORS-preflight request": `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`. Any other `OPTIONS` is an ordinary
    /// request (it needs a token).
    public static func isPreflight(method: String, origin: String?, requestMethod: String?) -> Bool {
        method == "OPTIONS" && origin != nil && requestMethod != nil
    }

    /// `Access-Control-Allow-Headers`: the allowed list, and the MCP
    /// transport's further headers (`Mcp-*`, e.g. `Mcp-Param-…`) among those
    /// the preflight asks for. Anything else stays unlisted, and the browser
    /// refuses to send it.
    public static func allowHeaders(requested: String?) -> String {
        var names = allowedHeaders
        let known = Set(allowedHeaders.map { $0.lowercased() })
        for name in (requested ?? "").split(separator: ",").map({ $0.trimmingWhitespace() }) {
            let lower = name.lowercased()
            guard lower.utf8.starts(with: "mcp-".utf8), !known.contains(lower), !names.contains(where: { $0.lowercased() == lower }),
                name.utf8.allSatisfy({ isTokenByte($0) })
            else { continue }
            names.append(name)
        }
        return names.joined(separator: ", ")
    }

    /// The answer to an allowed origin's preflight (204).
    public static func preflightHeaders(origin: String, requestedHeaders: String?) -> [(name: String, value: String)] {
        [
            (name: "Access-Control-Allow-Origin", value: origin), (name: "Vary", value: "Origin"),
            (name: "Access-Control-Allow-Methods", value: allowedMethods),
            (name: "Access-Control-Allow-Headers", value: allowHeaders(requested: requestedHeaders)),
            (name: "Access-Control-Max-Age", value: String(maxAgeSeconds)),
        ]
    }

    /// Added to every answer to a request from an allowed origin.
    public static func responseHeaders(origin: String) -> [(name: String, value: String)] {
        [
            (name: "Access-Control-Allow-Origin", value: origin), (name: "Vary", value: "Origin"),
            (name: "Access-Control-Expose-Headers", value: exposedHeaders),
        ]
    }

    /// The RFC 9728 document is public (no credentials, the same for
    /// everyone): any origin may read it, and its preflight (clients send
    /// `MCP-Protocol-Version` with it) is answered for any origin.
    public static func publicDocumentHeaders(preflight: Bool, requestedHeaders: String?) -> [(name: String, value: String)] {
        var headers = [(name: "Access-Control-Allow-Origin", value: "*")]
        if preflight {
            headers += [
                (name: "Access-Control-Allow-Methods", value: "GET, OPTIONS"),
                (name: "Access-Control-Allow-Headers", value: allowHeaders(requested: requestedHeaders)),
                (name: "Access-Control-Max-Age", value: String(maxAgeSeconds)),
            ]
        }
        return headers
    }

    /// RFC 9110 §5.6.2 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
